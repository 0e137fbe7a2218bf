package dev.conveyor.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real S3-compatible server on a free loopback port, or on a test host: s3proxy (from Maven
 * Central) in its own process, storing objects in a folder of the test's, checking AWS signatures
 * against one access key. The build copies its jar to the path the {@code s3proxy.jar} system
 * property names.
 */
public final class S3Server implements AutoCloseable {
  public static final String ACCESS_KEY = "conveyor-test";
  public static final String SECRET_KEY = "conveyor-test-secret";

  private final Process process;
  private final String address;
  private final int port;
  private final Path dir;

  private S3Server(Process process, String address, int port, Path dir) {
    this.process = process;
    this.address = address;
    this.port = port;
    this.dir = dir;
  }

  public static S3Server start(Path dir) throws IOException, InterruptedException {
    return start(dir, null);
  }

  /**
   * Starts the server on {@code host} ({@link Hosts}), listening on the host's address, or on this
   * machine's loopback when {@code host} is null.
   */
  public static S3Server start(Path dir, Hosts.Host host) throws IOException, InterruptedException {
    String jar = System.getProperty("s3proxy.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "no s3proxy jar at " + jar + ": the build copies it (run the tests through ./mvnw)");
    }
    int port = Ports.free();
    String address = host == null ? "127.0.0.1" : host.address();
    Path objects = Files.createDirectories(dir.resolve("objects"));
    Path properties = dir.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=http://" + address + ":" + port,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + objects,
            ""));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        List.of(java, "-Xmx256m", "-jar", jar, "--properties", properties.toString());
    Process p =
        host == null
            ? TestProcesses.start(command, dir.resolve("s3proxy.log"))
            : host.start(command, dir.resolve("s3proxy.log"));
    S3Server server = new S3Server(p, address, port, dir);
    if (Ports.awaitListening(p, address, port, Duration.ofSeconds(60))) {
      return server;
    }
    if (!p.isAlive()) {
      throw new IllegalStateException(
          "s3proxy stopped: " + Files.readString(dir.resolve("s3proxy.log")));
    }
    server.close();
    throw new IllegalStateException("s3proxy did not start; see " + dir.resolve("s3proxy.log"));
  }

  public String endpoint() {
    return "http://" + address + ":" + port;
  }

  /** The settings a pipeline or {@code upload} needs to reach this server. */
  public Map<String, String> settings() {
    return Map.of("s3-endpoint", endpoint(), "s3-path-style", "true", "s3-region", "us-east-1");
  }

  /** The credentials, as the AWS SDK reads them from a process's environment. */
  public static Map<String, String> environment() {
    return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY);
  }

  /** The folder s3proxy keeps a bucket's objects in. */
  public Path bucketFolder(String bucket) {
    return dir.resolve("objects").resolve(bucket);
  }

  @Override
  public void close() throws InterruptedException {
    TestProcesses.stop(process, Duration.ofSeconds(10));
  }
}
