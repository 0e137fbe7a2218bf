package dev.conveyor.cli;

import dev.conveyor.redis.RedisAddress;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Reads the broker URIs that commands take, turning bad ones into usage errors. */
final class Brokers {
  private Brokers() {}

  static RedisAddress redis(CommandSpec spec, String uri) {
    if (!RedisAddress.handles(uri)) {
      throw new ParameterException(
          spec.commandLine(),
          "unsupported broker URI '" + uri + "': use redis://host:port?mode=list|pubsub|stream");
    }
    try {
      return RedisAddress.parse(uri);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
