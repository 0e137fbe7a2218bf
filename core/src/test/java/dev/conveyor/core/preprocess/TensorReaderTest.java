package dev.conveyor.core.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageDecoder;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.testing.TestImages;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.opencv.core.Mat;

class TensorReaderTest {
  private static final Preprocessing SPEC =
      Preset.IMAGENET.builder().optResize(Resize.exact(32, 32)).optCrop(0, 0).build();
  private final Preprocessor preprocessor =
      new Preprocessor(SPEC, new ImageDecoder(ImageLimits.DEFAULT));
  private final TensorReader reader = new TensorReader(SPEC, null);
  private final byte[] photo = TestImages.bytes("plasma-640x480.jpg");

  /** What the reader writes for these bytes, as floats in the model's layout (NCHW). */
  private float[] written(TensorReader r, byte[] bytes, String contentType) {
    TensorReader.Tensor t = r.read(bytes, contentType);
    assertThat(t).as("taken as a tensor").isNotNull();
    ByteBuffer batch =
        ByteBuffer.allocateDirect(2 * SPEC.tensorSize() * 4).order(ByteOrder.nativeOrder());
    t.write(batch, 1);
    float[] out = new float[SPEC.tensorSize()];
    batch.asFloatBuffer().get(SPEC.tensorSize(), out);
    return out;
  }

  private static byte[] littleEndian(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  /** NCHW floats of a 3×32×32 input as NHWC. */
  private static float[] toHwc(float[] chw) {
    float[] hwc = new float[chw.length];
    int hw = 32 * 32;
    for (int c = 0; c < 3; c++) {
      for (int p = 0; p < hw; p++) {
        hwc[p * 3 + c] = chw[c * hw + p];
      }
    }
    return hwc;
  }

  @Test
  void aFloat32TensorInEitherLayoutIsTheModelsInput() {
    float[] expected = preprocessor.preprocess(photo);
    assertThat(
            written(
                reader,
                littleEndian(expected),
                TensorReader.contentType(DType.FLOAT32, 1, 3, 32, 32)))
        .containsExactly(expected);
    assertThat(
            written(
                reader,
                littleEndian(toHwc(expected)),
                "application/x-tensor; dtype=float32; shape=1,32,32,3"))
        .as("NHWC, said by its shape, transposed")
        .containsExactly(expected);
    assertThat(written(reader, littleEndian(expected), null))
        .as("no content type: told by its length, in the model's layout")
        .containsExactly(expected);
    assertThat(written(new TensorReader(SPEC, Layout.NHWC), littleEndian(toHwc(expected)), null))
        .as("no content type, assumed NHWC")
        .containsExactly(expected);
  }

  @Test
  void aUint8TensorIsRgbPixelsNormalizedLikeAnImage() {
    float[] expected = preprocessor.preprocess(photo);
    Mat bgr = preprocessor.pixels(photo);
    byte[] pixels = new byte[32 * 32 * 3];
    bgr.get(0, 0, pixels);
    bgr.release();
    byte[] rgb = new byte[pixels.length];
    for (int p = 0; p < 32 * 32; p++) {
      rgb[p * 3] = pixels[p * 3 + 2];
      rgb[p * 3 + 1] = pixels[p * 3 + 1];
      rgb[p * 3 + 2] = pixels[p * 3];
    }
    float[] got = written(reader, rgb, "application/x-tensor; dtype=uint8; shape=32,32,3");
    for (int i = 0; i < expected.length; i++) {
      assertThat(got[i]).as("element %d", i).isCloseTo(expected[i], within(1e-5f));
    }
  }

  @Test
  void float16IsWidenedExactly() {
    assertThat(DType.halfToFloat((short) 0x3c00)).isEqualTo(1f);
    assertThat(DType.halfToFloat((short) 0xc000)).isEqualTo(-2f);
    assertThat(DType.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(DType.halfToFloat((short) 0x0001)).isEqualTo((float) Math.pow(2, -24));
    assertThat(DType.halfToFloat((short) 0x3555)).isCloseTo(0.33325195f, within(1e-8f));
    assertThat(DType.halfToFloat((short) 0x7c00)).isInfinite();
    ByteBuffer half = ByteBuffer.allocate(SPEC.tensorSize() * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < SPEC.tensorSize(); i++) {
      half.putShort((short) 0xb800); // -0.5
    }
    float[] got = written(reader, half.array(), "application/x-tensor; dtype=float16");
    assertThat(got).containsOnly(-0.5f);
  }

  private static byte[] resource(String name) throws Exception {
    try (var in = TensorReaderTest.class.getResourceAsStream("/tensors/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void numpyFilesSayTheirDtypeAndShapeThemselves() throws Exception {
    float[] arange = new float[SPEC.tensorSize()];
    for (int i = 0; i < arange.length; i++) {
      arange[i] = i / 1000f;
    }
    // whatever the message's content type says, the file's own header wins
    assertThat(written(reader, resource("arange-nchw-float32.npy"), "application/octet-stream"))
        .containsExactly(arange);
    float[] half = written(reader, resource("arange-nhwc-float16.npy"), null);
    for (int i = 0; i < arange.length; i++) {
      assertThat(half[i])
          .as("element %d", i)
          .isCloseTo(arange[i], within(arange[i] / 1000 + 1e-4f));
    }
    refused(resource("arange-fortran.npy"), null, "Fortran order");
    byte[] cut = java.util.Arrays.copyOf(resource("arange-nchw-float32.npy"), 60);
    refused(cut, null, "cut short");
  }

  @Test
  void encodedImagesAreNotTakenForTensors() {
    assertThat(reader.read(photo, null)).isNull();
    assertThat(reader.read(photo, "image/jpeg")).isNull();
    byte[] png = TestImages.bytes("palette-blue.png");
    assertThat(reader.read(png, "application/octet-stream")).isNull();
    // a PNG signature wins even at a tensor's length
    byte[] looksLikePng = new byte[SPEC.tensorSize()];
    System.arraycopy(png, 0, looksLikePng, 0, 8);
    assertThat(reader.read(looksLikePng, null)).isNull();
  }

  private void refused(byte[] bytes, String contentType, String... says) {
    assertThatThrownBy(() -> reader.read(bytes, contentType))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_TENSOR))
        .message()
        .contains(says);
  }

  @Test
  void tensorsThatDoNotFitAreRefusedWithTheReason() {
    float[] good = preprocessor.preprocess(photo);
    byte[] bytes = littleEndian(good);
    refused(
        bytes,
        "application/x-tensor; dtype=float32; shape=1,3,64,64",
        "shape 1x3x64x64",
        "3x32x32 (NCHW) or 32x32x3 (NHWC)");
    refused(
        java.util.Arrays.copyOf(bytes, bytes.length - 7),
        "application/x-tensor; dtype=float32; shape=1,3,32,32",
        "has " + (bytes.length - 7) + " bytes",
        "needs " + bytes.length);
    refused(new byte[100], "application/x-tensor", "100 bytes");
    refused(
        new byte[bytes.length * 2], "application/x-tensor; dtype=float64", "dtype is not taken");
    refused(bytes, "application/x-tensor; shape=3,32,x", "shape");
    refused(bytes, "application/x-tensor; layout=nwhc", "layout is neither nchw nor nhwc");
    refused(bytes, "application/x-tensor; dtype=float32; shape=3,32,32; layout=nhwc", "(nhwc)");
    good[1234] = Float.NaN;
    refused(littleEndian(good), "application/x-tensor; dtype=float32", "NaN at element 1234");
    good[1234] = Float.NEGATIVE_INFINITY;
    refused(littleEndian(good), null, "infinite value at element 1234");
  }
}
