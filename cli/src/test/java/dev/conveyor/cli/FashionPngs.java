package dev.conveyor.cli;

import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.util.ArrayList;
import java.util.List;

/** Real images for requests: the first Fashion-MNIST test images, as PNG files' bytes. */
final class FashionPngs {
  private FashionPngs() {}

  static List<byte[]> first(int n) {
    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(n);
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < test.count(); i++) {
      images.add(PngExport.png(test, i));
    }
    return images;
  }
}
