package dev.conveyor.core.decode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Expands files and folders given by a user into the files to classify. */
public final class ImageFiles {
  private ImageFiles() {}

  /**
   * Files as given, and every regular file under each directory (one given by a symbolic link too),
   * sorted; hidden files and folders inside directories are skipped. A path that does not exist is
   * kept, so it gets an error result like any unreadable image.
   */
  public static List<Path> expand(List<Path> paths) {
    List<Path> files = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        // a folder given by a link is walked where it leads, its files named under the link
        try {
          Path real = p.toRealPath();
          try (Stream<Path> walk = Files.walk(real)) {
            walk.filter(Files::isRegularFile)
                .map(f -> p.resolve(real.relativize(f)))
                .filter(f -> !isHidden(p.relativize(f)))
                .sorted()
                .forEach(files::add);
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot list " + p + ": " + e.getMessage(), e);
        }
      } else {
        files.add(p);
      }
    }
    return files;
  }

  private static boolean isHidden(Path relative) {
    for (Path part : relative) {
      if (part.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }
}
