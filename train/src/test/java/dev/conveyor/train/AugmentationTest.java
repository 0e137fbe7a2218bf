package dev.conveyor.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** What training does to an image before each step: flips, shifts and random erasing. */
class AugmentationTest {
  private static final int SIDE = 8;

  /** One 8x8 image: pixel (r, c) is 10 r + c + 1, so every pixel is told apart and none is 0. */
  private static FashionMnist image() {
    byte[] pixels = new byte[SIDE * SIDE];
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        pixels[r * SIDE + c] = (byte) (10 * r + c + 1);
      }
    }
    return new FashionMnist(pixels, new byte[] {3}, 1, SIDE, SIDE);
  }

  private static float[] augmented(FashionTrainer.Augmentation a, long seed) {
    float[] out = new float[SIDE * SIDE];
    FashionTrainer.augment(image(), 0, a, new Random(seed), out, 0);
    return out;
  }

  private static float pixel(int r, int c) {
    return (10 * r + c + 1) / 255f;
  }

  @Test
  void withoutAugmentationTheImageIsOnlyScaled() {
    float[] out = augmented(FashionTrainer.Augmentation.NONE, 1);
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        assertThat(out[r * SIDE + c]).isEqualTo(pixel(r, c));
      }
    }
  }

  @Test
  void aShiftMovesEveryPixelByTheSameOffsetAndFillsTheEdgeWithBlack() {
    boolean movedOnce = false;
    for (long seed = 0; seed < 20; seed++) {
      float[] out = augmented(new FashionTrainer.Augmentation(false, 2, 0), seed);
      // find the offset from the first pixel that is not black, then check all pixels by it
      int dy = Integer.MIN_VALUE;
      int dx = 0;
      for (int y = -2; y <= 2 && dy == Integer.MIN_VALUE; y++) {
        for (int x = -2; x <= 2; x++) {
          if (matches(out, y, x)) {
            dy = y;
            dx = x;
            break;
          }
        }
      }
      assertThat(dy)
          .as("seed %d: some shift of at most 2 explains the image", seed)
          .isBetween(-2, 2);
      movedOnce |= dy != 0 || dx != 0;
    }
    assertThat(movedOnce).isTrue();
  }

  private static boolean matches(float[] out, int dy, int dx) {
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        int sr = r - dy;
        int sc = c - dx;
        float expected = sr >= 0 && sr < SIDE && sc >= 0 && sc < SIDE ? pixel(sr, sc) : 0;
        if (out[r * SIDE + c] != expected) {
          return false;
        }
      }
    }
    return true;
  }

  @Test
  void erasingFillsOneRectangleWithNoiseAndLeavesTheRestAlone() {
    int erasedImages = 0;
    for (long seed = 0; seed < 40; seed++) {
      float[] out = augmented(new FashionTrainer.Augmentation(false, 0, 1.0), seed);
      int minR = SIDE;
      int maxR = -1;
      int minC = SIDE;
      int maxC = -1;
      int changed = 0;
      for (int r = 0; r < SIDE; r++) {
        for (int c = 0; c < SIDE; c++) {
          if (out[r * SIDE + c] != pixel(r, c)) {
            changed++;
            minR = Math.min(minR, r);
            maxR = Math.max(maxR, r);
            minC = Math.min(minC, c);
            maxC = Math.max(maxC, c);
            assertThat(out[r * SIDE + c]).isBetween(0f, 1f);
          }
        }
      }
      if (changed > 0) {
        erasedImages++;
        int area = (maxR - minR + 1) * (maxC - minC + 1);
        assertThat(changed).as("one rectangle").isEqualTo(area);
        assertThat(area)
            .as("at most a quarter of the image")
            .isLessThanOrEqualTo(SIDE * SIDE / 4 + 4);
      }
    }
    assertThat(erasedImages)
        .as("erasing with probability 1 erases almost every time")
        .isGreaterThan(30);
  }

  @Test
  void theSameSeedGivesTheSameImages() {
    FashionTrainer.Augmentation all = FashionTrainer.Augmentation.DEFAULT;
    assertThat(augmented(all, 42)).containsExactly(augmented(all, 42));
    assertThat(augmented(all, 42)).isNotEqualTo(augmented(all, 43));
  }

  @Test
  void settingsOutOfRangeAreRefused() {
    assertThatThrownBy(() -> new FashionTrainer.Augmentation(true, 9, 0.5))
        .hasMessageContaining("shift must be 0 to 8");
    assertThatThrownBy(() -> new FashionTrainer.Augmentation(true, 2, 1.5))
        .hasMessageContaining("probability");
  }
}
