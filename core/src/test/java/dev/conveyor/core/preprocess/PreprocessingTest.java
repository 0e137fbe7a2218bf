package dev.conveyor.core.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.core.decode.ImageDecoder;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.testing.TestImages;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PreprocessingTest {
  private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);

  @Test
  void presetsAreAsDocumented() {
    Preprocessing caffe = Preset.CAFFE.get();
    assertThat(caffe.color()).isEqualTo(ColorOrder.BGR);
    assertThat(caffe.mean()).containsExactly(103.939f, 116.779f, 123.68f);
    assertThat(caffe.scale()).isEqualTo(1f);
    Preprocessing tf = Preset.TF_RESNET_V1.get();
    assertThat(tf.layout()).isEqualTo(Layout.NHWC);
    assertThat(tf.mean()).containsExactly(123.68f, 116.78f, 103.94f);
    Preprocessing fm = Preset.FASHION_MNIST.get();
    assertThat(fm.tensorSize()).isEqualTo(28 * 28);
    assertThat(Preset.IMAGENET.get().tensorSize()).isEqualTo(3 * 224 * 224);
  }

  @Test
  void everyFieldCanBeOverriddenFromStrings() {
    Preprocessing p =
        Preprocessing.fromMap(
            Map.of(
                "preset", "caffe",
                "resize", "300",
                "crop", "256x240",
                "color", "rgb",
                "scale", "0.5",
                "mean", "1,2,3",
                "std", "2",
                "layout", "nchw"));
    assertThat(p.resize()).isEqualTo(Resize.shorterSide(300));
    assertThat(p.outputWidth()).isEqualTo(256);
    assertThat(p.outputHeight()).isEqualTo(240);
    assertThat(p.color()).isEqualTo(ColorOrder.RGB);
    assertThat(p.scale()).isEqualTo(0.5f);
    assertThat(p.mean()).containsExactly(1f, 2f, 3f);
    assertThat(p.std()).containsExactly(2f, 2f, 2f);
    assertThat(p.layout()).isEqualTo(Layout.NCHW);
  }

  @Test
  void badSettingsAreRefusedWithTheReason() {
    assertThatThrownBy(() -> Preprocessing.fromMap(Map.of("preset", "vgg")))
        .hasMessageContaining("unknown preset 'vgg'")
        .hasMessageContaining("imagenet, caffe, tf-resnet-v1 or fashion-mnist");
    assertThatThrownBy(() -> Preprocessing.fromMap(Map.of("mean", "1,2")))
        .hasMessageContaining("mean has 2 values but the output has 3 channels");
    assertThatThrownBy(() -> Preprocessing.fromMap(Map.of("crop", "none")))
        .hasMessageContaining("the output size must be fixed");
    assertThatThrownBy(() -> Preprocessing.fromMap(Map.of("std", "0")))
        .hasMessageContaining("std must not be 0");
    assertThatThrownBy(() -> Preprocessing.fromMap(Map.of("colour", "rgb")))
        .hasMessageContaining("unknown preprocessing settings [colour]")
        .hasMessageContaining("did you mean 'color'");
  }

  @Test
  void adaptsToTheModelsInput() {
    List<String> changes = new ArrayList<>();
    Preprocessing p = Preset.IMAGENET.get().adaptTo(Layout.NHWC, 3, 299, 299, changes);
    assertThat(p.layout()).isEqualTo(Layout.NHWC);
    assertThat(p.outputWidth()).isEqualTo(299);
    assertThat(p.resize()).isEqualTo(Resize.shorterSide(342)); // 299 * 256 / 224
    assertThat(changes).hasSize(2);
    Preprocessing gray = Preset.IMAGENET.get().adaptTo(Layout.NCHW, 1, 224, 224, new ArrayList<>());
    assertThat(gray.color()).isEqualTo(ColorOrder.GRAY);
    assertThat(gray.mean()).containsExactly(0.485f);
  }

  @Test
  void caffePresetGivesBgrMinusMeansInChannelsLastOrder() {
    Preprocessor p = new Preprocessor(Preset.CAFFE.get(), decoder);
    float[] t = p.preprocess(TestImages.bytes("yellow.bmp")); // rgb(240,240,20)
    assertThat(t).hasSize(224 * 224 * 3);
    int middle = (112 * 224 + 112) * 3;
    assertThat(t[middle]).as("B - 103.939").isCloseTo(20 - 103.939f, within(0.01f));
    assertThat(t[middle + 1]).as("G - 116.779").isCloseTo(240 - 116.779f, within(0.01f));
    assertThat(t[middle + 2]).as("R - 123.68").isCloseTo(240 - 123.68f, within(0.01f));
  }

  @Test
  void fashionMnistPresetGivesOneGrayChannelScaledToOne() {
    Preprocessor p = new Preprocessor(Preset.FASHION_MNIST.get(), decoder);
    float[] t = p.preprocess(TestImages.bytes("tiny-gray.png")); // grey 128
    assertThat(t).hasSize(28 * 28);
    for (float v : t) {
      assertThat(v).isCloseTo(128 / 255f, within(1e-6f));
    }
  }

  @Test
  void imagesSmallerThanTheCropArePaddedWithZeroPixels() {
    Preprocessing crop = Preset.IMAGENET.builder().optResize(Resize.NONE).build();
    float[] t = new Preprocessor(crop, decoder).preprocess(TestImages.bytes("tiny-gray.png"));
    float zeroRed = (0f - 0.485f) / 0.229f;
    float greyRed = (128 / 255f - 0.485f) / 0.229f;
    assertThat(t[0]).isCloseTo(zeroRed, within(1e-5f));
    assertThat(t[112 * 224 + 112]).isCloseTo(greyRed, within(1e-5f));
  }
}
