package dev.conveyor.server;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.time.Duration;

/** The HTTP server's settings, declared once: {@code conveyor serve} takes them as options. */
public final class ServerSettings {
  private ServerSettings() {}

  public static final Setting<Integer> PORT =
      Setting.integer("port", 8080, 0, "port to listen on; 0 for any free one");
  public static final Setting<String> BIND =
      Setting.text("bind", "127.0.0.1", "address to listen on (by default, this machine only)")
          .withLabel("HOST");
  public static final Setting<String> TOKEN =
      Setting.secret(
              "token",
              "require `Authorization: Bearer TOKEN` on every route but the public ones (the page, its files, the health checks, /v1/info)")
          .withLabel("TOKEN");
  public static final Setting<Duration> TIMEOUT =
      Setting.seconds("timeout", 30, "seconds a caller waits for its result (504 beyond)");
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
          "HTTP server", PORT, BIND, TOKEN, TIMEOUT, JOB_CAPACITY, JOB_EXPIRY, DASHBOARD_FROM);

  /** The server's configuration from its settings; uploads are limited to {@code maxBytes}. */
  public static ServerConfig config(Settings s, long maxBytes) {
    return ServerConfig.defaults()
        .withPort(s.get(PORT))
        .withBind(s.get(BIND))
        .withToken(s.get(TOKEN))
        .withResultTimeout(s.get(TIMEOUT))
        .withJobCapacity(s.get(JOB_CAPACITY))
        .withJobExpiry(s.get(JOB_EXPIRY))
        .withMaxRequestBytes(maxBytes);
  }
}
