package dev.conveyor.core.worker;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads images from the local file system; the key is a path. */
public final class FileFetcher implements Fetcher {
  @Override
  public byte[] fetch(String key, long maxBytes) {
    Path path = Path.of(key);
    try {
      long size = Files.size(path);
      if (size > maxBytes) {
        throw new ConveyorException(
            ErrorCode.TOO_LARGE,
            "the file is %d bytes, over the limit of %d bytes".formatted(size, maxBytes));
      }
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new ConveyorException(ErrorCode.FETCH_FAILED, "no such file: " + key);
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.FETCH_FAILED, "cannot read " + key + ": " + e.getMessage());
    }
  }
}
