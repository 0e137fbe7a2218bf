package dev.conveyor.server;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The HTTP server's settings, declared once: {@code conveyor serve} takes them as options. */
public final class ServerSettings {
  private ServerSettings() {}

  public static final Setting<Integer> PORT =
      Setting.integer("port", 8080, 0, "port to listen on; 0 for any free one");
  public static final Setting<String> BIND =
      Setting.text("bind", "127.0.0.1", "address to listen on (by default, this machine only)")
          .withLabel("HOST");

  public static final Setting<String> ALLOWED_HOSTS =
      Setting.text(
          "allowed-hosts",
          "HOSTS",
          "host names requests may name in Host (any port), comma-separated, or *; others get 421. By default the loopback names (localhost, 127.0.0.1, [::1]) when --bind is a loopback address, else any",
          AllowedHosts::isList,
          "host names or addresses without ports, separated by commas, or *");

  /** The environment variable a token may come from, out of sight of {@code ps}. */
  public static final String TOKEN_VARIABLE = "CONVEYOR_TOKEN";

  public static final Setting<String> TOKEN =
      Setting.secret(
              "token",
              "require `Authorization: Bearer TOKEN` on every route but the public ones (the page, its files, the health checks, /v1/info); every local user can read a command line, so prefer --token-file or CONVEYOR_TOKEN")
          .withLabel("TOKEN");
  public static final Setting<Path> TOKEN_FILE =
      Setting.path(
          "token-file",
          "FILE",
          "read the token from this file (its first line); else the CONVEYOR_TOKEN environment variable, when set");
  public static final Setting<Path> TLS_CERT =
      Setting.path(
          "tls-cert",
          "PEM",
          "serve HTTPS (only) with this PEM certificate, the server's first in the chain; with --tls-key");
  public static final Setting<Path> TLS_KEY =
      Setting.path(
          "tls-key", "PEM", "the certificate's PEM private key, unencrypted; with --tls-cert");
  public static final Setting<Duration> TIMEOUT =
      Setting.seconds("timeout", 30, "seconds a caller waits for its result (504 beyond)");
  public static final Setting<Integer> MIN_DATA_RATE =
      Setting.integer(
          "min-data-rate",
          1024,
          0,
          "the slowest a request body may arrive, in bytes a second: a slower one is cut off (400); 0 for no limit");
  public static final Setting<Integer> JOB_CAPACITY =
      Setting.integer(
          "job-capacity",
          10_000,
          1,
          "most asynchronous jobs kept at once (429 beyond, while all of them are still running)");
  public static final Setting<Duration> JOB_EXPIRY =
      Setting.seconds("job-expiry", 3600, "seconds a job's result is kept after the job was made");

  public static final Setting<String> DASHBOARD_FROM =
      Setting.text(
          "dashboard-from",
          "URI",
          "a results store the dashboard follows, to show the results that workers anywhere store there, with their hosts and (for s3:// keys) images: postgresql://…?results=TABLE, kafka://…?results=TOPIC, redis://…?mode=stream; by default the sink setting's URI, when there is one",
          v -> v.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.+"),
          "a broker URI");

  public static final SettingGroup SERVER_SETTINGS =
      SettingGroup.of(
          "HTTP server",
          PORT,
          BIND,
          ALLOWED_HOSTS,
          TOKEN,
          TOKEN_FILE,
          TLS_CERT,
          TLS_KEY,
          TIMEOUT,
          MIN_DATA_RATE,
          JOB_CAPACITY,
          JOB_EXPIRY,
          DASHBOARD_FROM);

  /**
   * The configuration with every server setting at its default, no token, and uploads limited to
   * the default largest image: for servers made in code (benchmarks, tests).
   */
  public static ServerConfig defaults() {
    return config(Settings.none(), ImageLimits.DEFAULT.maxBytes(), Map.of());
  }

  /** The server's configuration from its settings; uploads are limited to {@code maxBytes}. */
  public static ServerConfig config(Settings s, long maxBytes) {
    return config(s, maxBytes, System.getenv());
  }

  /** The same, reading {@link #TOKEN_VARIABLE} from {@code environment}. */
  static ServerConfig config(Settings s, long maxBytes, Map<String, String> environment) {
    return new ServerConfig(
        s.get(BIND),
        s.get(PORT),
        maxBytes,
        s.get(TIMEOUT),
        token(s, environment),
        s.get(JOB_CAPACITY),
        s.get(JOB_EXPIRY),
        tls(s),
        AllowedHosts.parse(s.get(ALLOWED_HOSTS)),
        s.get(MIN_DATA_RATE));
  }

  /** HTTPS's certificate and key, both or neither; each must be a readable file. */
  static ServerConfig.Tls tls(Settings s) {
    Path cert = s.get(TLS_CERT);
    Path key = s.get(TLS_KEY);
    if (cert == null && key == null) {
      return null;
    }
    if (cert == null || key == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "HTTPS needs both --tls-cert and --tls-key");
    }
    for (Path p : List.of(cert, key)) {
      if (!Files.isReadable(p)) {
        throw new ConveyorException(ErrorCode.INVALID_SETTING, "cannot read " + p);
      }
    }
    return new ServerConfig.Tls(cert, key);
  }

  /**
   * The token: {@code --token}, else the first line of {@code --token-file}, else {@link
   * #TOKEN_VARIABLE}; {@code null} for none.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for a token file that cannot be read or is
   *     empty, or for both {@code --token} and {@code --token-file}
   */
  static String token(Settings s, Map<String, String> environment) {
    if (s.has(TOKEN) && s.has(TOKEN_FILE)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "give --token or --token-file, not both");
    }
    if (s.has(TOKEN)) {
      return s.get(TOKEN);
    }
    Path file = s.get(TOKEN_FILE);
    if (file != null) {
      String token;
      try {
        token = Files.readAllLines(file).stream().findFirst().orElse("").strip();
      } catch (IOException e) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "cannot read the token file " + file + ": " + e.getClass().getSimpleName());
      }
      if (token.isEmpty()) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "the token file " + file + " is empty");
      }
      return token;
    }
    String variable = environment.get(TOKEN_VARIABLE);
    return variable == null || variable.isBlank() ? null : variable.strip();
  }
}
