package dev.conveyor.turbojpeg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.decode.ImageDecoder;
import dev.conveyor.core.decode.ImageHeader;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.decode.OpenCv;
import dev.conveyor.core.decode.OpenCvJpegDecoder;
import dev.conveyor.core.testing.TestImages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.opencv.core.Core;
import org.opencv.core.Mat;

class TurboJpegDecoderTest {
  private final TurboJpegDecoder turbo = new TurboJpegDecoder();
  private final OpenCvJpegDecoder opencv = new OpenCvJpegDecoder();

  @BeforeAll
  static void load() {
    OpenCv.load();
  }

  @Test
  void isTheJpegDecoderConveyorPicks() {
    assertThat(ImageDecoder.jpegDecoderName()).isEqualTo("TurboJPEG");
  }

  @ParameterizedTest(name = "{0} at 1/{1}")
  @CsvSource({
    "plasma-640x480.jpg, 1",
    "detail-800x600.jpg, 1",
    "plasma-1600x1200.jpg, 2",
    "detail-2200x1400.jpg, 4",
    "gray.jpg, 1",
    "exif-rotated.jpg, 1",
  })
  void decodesAsOpenCvsLibjpegDoes(String name, int reduction) {
    byte[] jpeg = TestImages.bytes(name);
    ImageHeader header = ImageHeader.read(jpeg, ImageLimits.DEFAULT);
    for (boolean gray : new boolean[] {false, true}) {
      Mat a = turbo.decode(jpeg, header, gray, reduction);
      Mat b = opencv.decode(jpeg, header, gray, reduction);
      assertThat(a.size()).isEqualTo(b.size());
      assertThat(a.channels()).isEqualTo(gray ? 1 : 3);
      Mat diff = new Mat();
      Core.absdiff(a, b, diff);
      double max = Core.minMaxLoc(diff.reshape(1)).maxVal;
      assertThat(max).as("largest difference in grey levels").isLessThanOrEqualTo(2.0);
      for (Mat m : new Mat[] {a, b, diff}) {
        m.release();
      }
    }
  }

  @Test
  void leavesCmykToOpenCv() {
    byte[] jpeg = TestImages.bytes("cmyk-red.jpg");
    assertThat(turbo.decode(jpeg, ImageHeader.read(jpeg, ImageLimits.DEFAULT), false, 1)).isNull();
  }

  @Test
  void aFatalDecodingErrorIsCorrupt() {
    byte[] jpeg = TestImages.bytes("plasma-333x257.jpg").clone();
    ImageHeader header = ImageHeader.read(jpeg, ImageLimits.DEFAULT);
    // the scan header at byte 341 names components 1, 2, 3; name one that the frame lacks
    assertThat(jpeg[341] & 0xff).isEqualTo(0xFF);
    assertThat(jpeg[342] & 0xff).isEqualTo(0xDA);
    jpeg[346] = 9;
    assertThatThrownBy(() -> turbo.decode(jpeg, header, false, 1))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("the JPEG cannot be decoded");
  }

  @Test
  void aWarningStillGivesTheImageAsLibjpegDoes() {
    byte[] jpeg = TestImages.bytes("plasma-333x257.jpg").clone();
    ImageHeader header = ImageHeader.read(jpeg, ImageLimits.DEFAULT);
    for (int i = 2000; i < 2100; i++) {
      jpeg[i] = (byte) 0xFF; // fill bytes inside the scan: libjpeg warns and goes on
    }
    Mat image = turbo.decode(jpeg, header, false, 1);
    assertThat(image.cols()).isEqualTo(333);
    assertThat(image.rows()).isEqualTo(257);
    image.release();
  }
}
