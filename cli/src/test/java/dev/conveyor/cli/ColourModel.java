package dev.conveyor.cli;

import dev.conveyor.onnx.testing.TestModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * The colour model of the tests (3×224×224, ImageNet preprocessing, labels red, green, blue), its
 * images (224×224 PNGs, each mostly one colour with noise), and worker processes that run it with
 * no resize or crop, so that a tensor made from an image's own pixels is exactly its input.
 */
final class ColourModel {
  private static final int[][] COLOURS = {
    {200, 30, 40}, {20, 180, 60}, {30, 50, 210}, {120, 110, 100}, {250, 250, 10}
  };

  private ColourModel() {}

  /** Writes the model into {@code dir}; its path. */
  static Path model(Path dir) {
    return TestModels.writeColour(dir.resolve("colours.onnx"), TestModels.Colour.imagenetSized());
  }

  /** The pipeline options that run it on the images as they are. */
  static List<String> options(Path model) {
    return List.of("--model", model.toString(), "--resize", "224x224", "--crop", "none");
  }

  /**
   * Starts {@code ./conveyor worker --from uri} on the model, as {@code HOSTNAME=name}, its output
   * in {@code dir/name.out} and {@code .err}.
   */
  static Process worker(Path root, Path dir, String name, String uri, Path model, String... more)
      throws IOException {
    List<String> command =
        new ArrayList<>(List.of(root.resolve("conveyor").toString(), "worker", "--from", uri));
    command.addAll(options(model));
    command.addAll(List.of(more));
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(dir.resolve(name + ".err").toFile());
    b.environment().put("HOSTNAME", name);
    return b.start();
  }

  /** Writes the images into {@code dir}; their paths. */
  static List<Path> images(Path dir) throws IOException {
    Random random = new Random(3);
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < COLOURS.length; i++) {
      BufferedImage image = new BufferedImage(224, 224, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 224; y++) {
        for (int x = 0; x < 224; x++) {
          int r = clamp(COLOURS[i][0] + random.nextInt(61) - 30);
          int g = clamp(COLOURS[i][1] + random.nextInt(61) - 30);
          int b = clamp(COLOURS[i][2] + random.nextInt(61) - 30);
          image.setRGB(x, y, (r << 16) | (g << 8) | b);
        }
      }
      Path file = dir.resolve("colour-" + i + ".png");
      ImageIO.write(image, "png", file.toFile());
      files.add(file);
    }
    return files;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }
}
