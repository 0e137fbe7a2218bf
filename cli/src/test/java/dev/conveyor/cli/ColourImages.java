package dev.conveyor.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/** Test images for the colour model: 224×224 PNGs, each mostly one colour with noise. */
final class ColourImages {
  private static final int[][] COLOURS = {
    {200, 30, 40}, {20, 180, 60}, {30, 50, 210}, {120, 110, 100}, {250, 250, 10}
  };

  private ColourImages() {}

  /** Writes them into {@code dir}; their paths. */
  static List<Path> write(Path dir) throws IOException {
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
