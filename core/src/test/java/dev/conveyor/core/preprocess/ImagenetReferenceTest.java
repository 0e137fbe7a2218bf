package dev.conveyor.core.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.decode.ImageDecoder;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.testing.TestImages;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The {@code imagenet} preset against torchvision's {@code Resize(256)}, {@code CenterCrop(224)},
 * {@code ToTensor()}, {@code Normalize(...)}: the crops come from
 * src/test/scripts/make-preprocess-reference.py, ToTensor and Normalize are applied here from their
 * definition. Differences are in normalized units; one grey level is 1/255/0.226 = 0.017, so the
 * mean difference stays within about one grey level, and no value is off by more than 15.
 */
class ImagenetReferenceTest {
  private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] STD = {0.229f, 0.224f, 0.225f};

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // image,              max abs diff, mean abs diff   (measured: max, mean)
    "plasma-640x480.jpg,   0.10,         0.015", //      0.035, 0.0044
    "plasma-333x257.jpg,   0.10,         0.015", //      0.018, 0.0038
    "plasma-300x500.png,   0.10,         0.015", //      0.070, 0.0117
    "detail-800x600.jpg,   0.25,         0.025", //      0.192, 0.0187
    // decoded at 1/2 size by DCT scaling, then resized
    "plasma-1600x1200.jpg, 0.10,         0.015", //      0.035, 0.0055
    "detail-2200x1400.jpg, 0.10,         0.015", //      0.052, 0.0056
  })
  void matchesTorchvisionEvalTransform(String image, double maxAllowed, double meanAllowed) {
    Preprocessor p = new Preprocessor(Preset.IMAGENET.get(), new ImageDecoder(ImageLimits.DEFAULT));
    float[] actual = p.preprocess(TestImages.bytes(image));
    float[] expected = reference(image.substring(0, image.lastIndexOf('.')) + ".imagenet-ref.png");

    assertThat(actual).hasSize(3 * 224 * 224);
    double max = 0;
    double sum = 0;
    for (int i = 0; i < actual.length; i++) {
      double d = Math.abs(actual[i] - expected[i]);
      max = Math.max(max, d);
      sum += d;
    }
    double mean = sum / actual.length;
    System.out.printf("%s: max abs diff %.4f, mean abs diff %.5f%n", image, max, mean);
    assertThat(max).as("max abs diff").isLessThanOrEqualTo(maxAllowed);
    assertThat(mean).as("mean abs diff").isLessThanOrEqualTo(meanAllowed);
  }

  /** ToTensor and Normalize applied to the reference crop, NCHW, RGB. */
  private static float[] reference(String name) {
    Mat bgr = Imgcodecs.imdecode(new MatOfByte(TestImages.bytes(name)), Imgcodecs.IMREAD_COLOR);
    byte[] px = new byte[224 * 224 * 3];
    bgr.get(0, 0, px);
    float[] out = new float[3 * 224 * 224];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 224 * 224; i++) {
        float v = (px[i * 3 + (2 - c)] & 0xff) / 255f;
        out[c * 224 * 224 + i] = (v - MEAN[c]) / STD[c];
      }
    }
    return out;
  }
}
