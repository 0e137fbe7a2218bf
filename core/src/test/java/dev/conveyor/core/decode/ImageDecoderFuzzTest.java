package dev.conveyor.core.decode;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.fuzz.FuzzRuns;
import org.junit.jupiter.api.AfterAll;
import org.opencv.core.Mat;

/**
 * The decoder's entry point under a coverage-guided fuzzer: any bytes at all give an image or a
 * {@link ConveyorException} with its code; any other exception, or a crash, is a bug. Runs its
 * seeds (and every crash found, kept beside them) in every build; fuzzes when {@code
 * JAZZER_FUZZ=1}.
 */
class ImageDecoderFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(ImageDecoderFuzzTest.class);
  private static final ImageDecoder DECODER = new ImageDecoder(ImageLimits.DEFAULT);

  @FuzzTest(maxDuration = "10s")
  void decode(byte[] bytes) {
    RUNS.ran();
    for (boolean gray : new boolean[] {false, true}) {
      try {
        Mat image = DECODER.decode(bytes, gray, gray ? 0 : 112);
        image.release();
      } catch (ConveyorException expected) {
        // an error result with its code
      }
    }
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
