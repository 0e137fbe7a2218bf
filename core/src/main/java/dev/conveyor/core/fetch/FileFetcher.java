package dev.conveyor.core.fetch;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Reads a local file that {@link FetchAllow#confine} has allowed. The size limit holds on the bytes
 * actually read, not on the size the file system reports: at most one byte more than the limit is
 * read before the file is refused.
 */
public final class FileFetcher {
  private FileFetcher() {}

  /**
   * @throws ConveyorException {@code TOO_LARGE} over {@code maxBytes}; {@link FetchAllow#denied()}
   *     when it cannot be read
   */
  public static byte[] read(Path path, long maxBytes) {
    int limit = (int) Math.min(maxBytes, Integer.MAX_VALUE - 16);
    byte[] bytes;
    try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
      bytes = in.readNBytes(limit + 1);
    } catch (IOException | SecurityException e) {
      throw FetchAllow.denied();
    }
    if (bytes.length > limit) {
      throw new ConveyorException(
          ErrorCode.TOO_LARGE, "the image is over the limit of %d bytes".formatted(maxBytes));
    }
    return bytes;
  }
}
