package dev.conveyor.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Starts the servers the tests start, on free loopback ports, for a benchmark run by hand ({@code
 * scripts/bench-every-path.sh}): Redis, Kafka and PostgreSQL, or those named. Prints a line {@code
 * NAME=URI} for each once it accepts connections, then {@code ready}, and stops them all when its
 * standard input closes.
 *
 * <p>Usage: {@code LocalServers [redis] [kafka] [postgres]}; Kafka needs its broker's jars ({@code
 * org.apache.kafka:kafka_2.13}) on the class path.
 */
public final class LocalServers {
  private LocalServers() {}

  public static void main(String[] args) throws Exception {
    List<String> names = args.length == 0 ? List.of("redis", "kafka", "postgres") : List.of(args);
    Path dir = Files.createTempDirectory("conveyor-servers");
    List<AutoCloseable> started = new ArrayList<>();
    try {
      for (String name : names) {
        switch (name) {
          case "redis" -> {
            RedisServer redis =
                RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
            started.add(redis);
            System.out.println("redis=" + redis.uri(""));
          }
          case "kafka" -> {
            KafkaServer kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
            started.add(kafka);
            System.out.println("kafka=" + kafka.uri(""));
          }
          case "postgres" -> {
            PostgresServer postgres = PostgresServer.start();
            started.add(postgres);
            System.out.println("postgres=" + postgres.uri(""));
          }
          default ->
              throw new IllegalArgumentException(
                  "no server named " + name + ": redis, kafka or postgres");
        }
      }
      System.out.println("ready");
      System.out.flush();
      while (System.in.read() >= 0) {
        // runs until standard input closes
      }
    } finally {
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
