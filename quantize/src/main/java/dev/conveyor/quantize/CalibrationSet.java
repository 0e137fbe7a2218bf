package dev.conveyor.quantize;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.preprocess.Preprocessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * The image files to calibrate on, picked at random (seeded, so a run can be repeated) from a
 * folder, and those to check agreement on: a folder of their own, or as many again of the first
 * folder's images not picked.
 *
 * @param chosen the calibration images
 * @param heldOut the images to compare the models on
 */
public record CalibrationSet(List<Path> chosen, List<Path> heldOut) {
  /**
   * Picks {@code count} images under {@code calibrate} (searched recursively).
   *
   * @param holdout a folder of images to compare on, or null to hold out images of {@code
   *     calibrate}
   * @throws ConveyorException {@code INVALID_SETTING} when a folder is missing or has no images
   */
  public static CalibrationSet pick(Path calibrate, Path holdout, int count) {
    List<Path> files = images(calibrate);
    Collections.shuffle(files, new Random(1));
    List<Path> chosen = files.subList(0, Math.min(count, files.size()));
    List<Path> rest =
        holdout != null
            ? images(holdout)
            : files.subList(chosen.size(), Math.min(files.size(), 2 * chosen.size()));
    return new CalibrationSet(chosen, rest);
  }

  /** The bytes of each file, in order. */
  public static List<byte[]> read(List<Path> files) throws IOException {
    List<byte[]> bytes = new ArrayList<>(files.size());
    for (Path f : files) {
      bytes.add(Files.readAllBytes(f));
    }
    return bytes;
  }

  /**
   * The images preprocessed for the model; unreadable ones are left out.
   *
   * @param progress told of each image done
   */
  public static List<float[]> preprocess(
      Preprocessor preprocessor, List<byte[]> images, IntConsumer progress) {
    List<float[]> tensors = new ArrayList<>();
    for (byte[] image : images) {
      try {
        tensors.add(preprocessor.preprocess(image));
      } catch (ConveyorException unreadable) {
        // not an image the model can take: nothing to calibrate or compare with
      }
      progress.accept(1);
    }
    return tensors;
  }

  private static List<Path> images(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no folder at " + dir);
    }
    List<Path> files = new ArrayList<>(ImageFiles.expand(List.of(dir)));
    if (files.isEmpty()) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no images in " + dir);
    }
    Collections.sort(files);
    return files;
  }
}
