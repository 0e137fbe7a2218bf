package dev.conveyor.core.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.opencv.core.Mat;

class ImageDecoderTest {
  private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);

  /** Mean B, G, R of a decoded image. */
  private static double[] meanBgr(Mat m) {
    double[] mean = org.opencv.core.Core.mean(m).val;
    return new double[] {mean[0], mean[1], mean[2]};
  }

  @ParameterizedTest(name = "{0} decodes to rgb({1},{2},{3})")
  @CsvSource({
    "cmyk-red.jpg,                 220, 20,  30",
    "cmyk-adobe0-red.jpg,          245, 24,  24",
    "rgb16-green.png,              20,  200, 40",
    "palette-blue.png,             30,  40,  210",
    "yellow.bmp,                   240, 240, 20",
    "sky.tif,                      90,  160, 220",
    "animated-red-then-blue.gif,   250, 10,  10",
    "tiny-gray.png,                128, 128, 128",
  })
  void oddEncodingsDecodeToTheirColours(String name, int r, int g, int b) {
    Mat m = decoder.decode(TestImages.bytes(name), false, 0);
    try {
      assertThat(m.channels()).isEqualTo(3);
      double[] bgr = meanBgr(m);
      assertThat(bgr[2]).as("red").isCloseTo(r, org.assertj.core.data.Offset.offset(6.0));
      assertThat(bgr[1]).as("green").isCloseTo(g, org.assertj.core.data.Offset.offset(6.0));
      assertThat(bgr[0]).as("blue").isCloseTo(b, org.assertj.core.data.Offset.offset(6.0));
    } finally {
      m.release();
    }
  }

  @Test
  void aJpegDecoderThatCannotLoadIsSkippedForOpenCv() {
    // UnloadableJpegDecoder is listed as a service in these tests and fails to construct
    assertThat(ImageDecoder.jpegDecoderName()).isIn("OpenCV", "TurboJPEG");
    Mat m = decoder.decode(TestImages.bytes("plasma-640x480.jpg"), false, 0);
    assertThat(m.cols()).isEqualTo(640);
    m.release();
  }

  @Test
  void alphaIsDroppedLeavingTheColourAsPilConvertRgbDoes() {
    Mat m = decoder.decode(TestImages.bytes("alpha-orange.png"), false, 0);
    double[] bgr = meanBgr(m);
    assertThat(m.channels()).isEqualTo(3);
    assertThat(bgr[2]).isCloseTo(200, org.assertj.core.data.Offset.offset(3.0));
    assertThat(bgr[1]).isCloseTo(100, org.assertj.core.data.Offset.offset(3.0));
    assertThat(bgr[0]).isCloseTo(50, org.assertj.core.data.Offset.offset(3.0));
    m.release();
  }

  @Test
  void exifOrientationIsApplied() {
    // stored 200x100 with red left, blue right; orientation 6 shows it 100x200, red on top
    Mat m = decoder.decode(TestImages.bytes("exif-rotated.jpg"), false, 0);
    assertThat(m.cols()).isEqualTo(100);
    assertThat(m.rows()).isEqualTo(200);
    double[] top = meanBgr(m.submat(0, 90, 0, 100));
    double[] bottom = meanBgr(m.submat(110, 200, 0, 100));
    assertThat(top[2]).as("top is red").isGreaterThan(200);
    assertThat(top[0]).as("top is not blue").isLessThan(30);
    assertThat(bottom[0]).as("bottom is blue").isGreaterThan(200);
    m.release();
  }

  @Test
  void grayscaleDecodesToOneChannelOrThreeEqualOnes() {
    Mat gray = decoder.decode(TestImages.bytes("gray.jpg"), true, 0);
    Mat color = decoder.decode(TestImages.bytes("gray.jpg"), false, 0);
    assertThat(gray.channels()).isEqualTo(1);
    assertThat(color.channels()).isEqualTo(3);
    double[] bgr = meanBgr(color);
    assertThat(bgr[0]).isCloseTo(bgr[2], org.assertj.core.data.Offset.offset(0.5));
    gray.release();
    color.release();
  }

  @Test
  void largeJpegsDecodeReducedButNeverBelowTwiceWhatTheResizeNeeds() {
    Mat full = decoder.decode(TestImages.bytes("plasma-1600x1200.jpg"), false, 0);
    Mat reduced = decoder.decode(TestImages.bytes("plasma-1600x1200.jpg"), false, 256);
    Mat small = decoder.decode(TestImages.bytes("plasma-1600x1200.jpg"), false, 28);
    assertThat(full.rows()).isEqualTo(1200);
    assertThat(reduced.rows()).isEqualTo(600); // 1/2: 600 >= 2 * 256, while 1/4 would be 300
    assertThat(small.rows()).isEqualTo(150); // 1/8
    full.release();
    reduced.release();
    small.release();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "empty.jpg,         EMPTY",
    "truncated.jpg,     CORRUPT",
    "truncated.png,     CORRUPT",
    "corrupt.jpg,       CORRUPT",
    "not-an-image.txt,  UNSUPPORTED_FORMAT",
    "red.webp,          UNSUPPORTED_FORMAT",
    "fake.png,          CORRUPT",
    "huge-dimensions.jpg, TOO_LARGE",
    "gif-bomb.gif,      TOO_LARGE",
  })
  void brokenInputGivesAnErrorWithACode(String name, ErrorCode code) {
    assertThatThrownBy(() -> decoder.decode(TestImages.bytes(name), false, 0))
        .isInstanceOf(ConveyorException.class)
        .satisfies(e -> assertThat(((ConveyorException) e).code()).isEqualTo(code))
        .hasMessageNotContaining("null");
  }

  @Test
  void inputOverTheByteLimitIsRefusedBeforeDecoding() {
    ImageDecoder strict = new ImageDecoder(new ImageLimits(10_000, 50_000_000));
    assertThatThrownBy(() -> strict.decode(TestImages.bytes("plasma-640x480.jpg"), false, 0))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("over the limit of 10000 bytes")
        .satisfies(e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.TOO_LARGE));
  }

  @Test
  void decompressionBombIsRefusedFromItsHeader() {
    // 100,000 x 100,000 pixels declared in a few hundred bytes
    byte[] bomb = png(100_000, 100_000);
    assertThat(bomb.length).isLessThan(2_000);
    assertThatThrownBy(() -> decoder.decode(bomb, false, 0))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("10000000000 pixels")
        .satisfies(e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.TOO_LARGE));
  }

  @Test
  void imagesJustUnderThePixelLimitDecode() {
    ImageDecoder limited = new ImageDecoder(new ImageLimits(1 << 20, 64 * 64));
    Mat ok = limited.decode(png(64, 64), false, 0);
    assertThat(ok.cols()).isEqualTo(64);
    ok.release();
    assertThatThrownBy(() -> limited.decode(png(65, 64), false, 0))
        .isInstanceOf(ConveyorException.class);
  }

  /** A valid grey PNG of the given size whose rows are all zero: tiny when compressed. */
  static byte[] png(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height);
    ihdr.put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    Deflater deflater = new Deflater(9);
    // each row is a filter byte and width zero bytes; compress a bounded amount only
    long rawBytes = Math.min((long) (width + 1) * height, 1L << 16);
    deflater.setInput(new byte[(int) rawBytes]);
    deflater.finish();
    byte[] buf = new byte[1 << 16];
    int n = deflater.deflate(buf);
    chunk(out, "IDAT", java.util.Arrays.copyOf(buf, n));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
