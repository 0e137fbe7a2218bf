package dev.conveyor.core.preprocess;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.fuzz.FuzzRuns;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterAll;

/**
 * Tensor requests under a coverage-guided fuzzer: a declared content type (dtype, shape, layout)
 * and bytes, or a {@code .npy} file, chosen by the fuzzer. Each is a tensor written into a batch
 * slot, not a tensor (an image, for the decoder), or a {@code BAD_TENSOR}; never any other
 * exception.
 */
class TensorReaderFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(TensorReaderFuzzTest.class);
  private static final Preprocessing SPEC =
      Preset.IMAGENET.builder().optResize(Resize.exact(4, 4)).optCrop(0, 0).build();
  private static final TensorReader READER = new TensorReader(SPEC, null);
  private static final ByteBuffer BATCH =
      ByteBuffer.allocateDirect(2 * SPEC.tensorSize() * 4).order(ByteOrder.nativeOrder());

  @FuzzTest(maxDuration = "10s")
  void read(FuzzedDataProvider data) {
    RUNS.ran();
    String contentType = data.consumeBoolean() ? data.consumeString(120) : null;
    byte[] bytes = data.consumeRemainingAsBytes();
    try {
      TensorReader.Tensor tensor = READER.read(bytes, contentType);
      if (tensor != null) { // null: not a tensor, an image for the decoder
        tensor.write(BATCH, 1);
      }
    } catch (ConveyorException expected) {
      // BAD_TENSOR, saying what is wrong
    }
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
