package dev.conveyor.flink;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;

/**
 * Where the job keeps its checkpoints ({@code --checkpoints}) and which one it starts from ({@code
 * --restore}): what the environment needs before the job is built.
 */
final class Checkpoints {
  private Checkpoints() {}

  /**
   * The environment's configuration for checkpoints kept in {@code dir}, retained after a cancel,
   * and a start from {@code restore}.
   *
   * @param dir a folder or URI; {@code null} for the cluster's default
   * @param restore a checkpoint, savepoint or checkpoints folder; {@code null} to start afresh
   */
  static Configuration configuration(String dir, String restore) {
    Configuration c = new Configuration();
    if (dir != null) {
      c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
      c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, uri(dir));
      c.set(
          CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
          ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    }
    if (restore != null) {
      c.set(StateRecoveryOptions.SAVEPOINT_PATH, latest(restore));
    }
    return c;
  }

  private static String uri(String dir) {
    return dir.contains("://") ? dir : Path.of(dir).toAbsolutePath().toUri().toString();
  }

  /**
   * A checkpoint or savepoint folder as given, or the newest completed checkpoint ({@code
   * chk-N/_metadata}) under a checkpoints folder.
   */
  static String latest(String given) {
    if (given.contains("://") && !given.startsWith("file:")) {
      return given;
    }
    Path dir = given.startsWith("file:") ? Path.of(java.net.URI.create(given)) : Path.of(given);
    if (Files.exists(dir.resolve("_metadata"))) {
      return dir.toAbsolutePath().toUri().toString();
    }
    try (Stream<Path> found = Files.walk(dir, 3)) {
      return found
          .filter(p -> p.getFileName().toString().equals("_metadata"))
          .map(Path::getParent)
          .filter(p -> p.getFileName().toString().startsWith("chk-"))
          .max(
              Comparator.comparingLong(
                  p -> Long.parseLong(p.getFileName().toString().substring(4))))
          .map(p -> p.toAbsolutePath().toUri().toString())
          .orElseThrow(
              () ->
                  new ConveyorException(
                      ErrorCode.INVALID_SETTING,
                      "no completed checkpoint (chk-N/_metadata) under " + dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
