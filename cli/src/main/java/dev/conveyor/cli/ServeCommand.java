package dev.conveyor.cli;

import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.server.ServerConfig;
import dev.conveyor.server.ServerSettings;
import dev.conveyor.server.Serving;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor serve}: the HTTP API and web page, over workers in this process on the embedded
 * transport, or over a broker that workers anywhere take requests from.
 */
@Command(
    name = "serve",
    header = "Serve the HTTP API and web page: POST an image, get its classes.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts the HTTP server with workers in this process and the bundled model. Open "
          + "http://127.0.0.1:8080/ for the web page and live dashboard, or:",
      "  curl -F image=@photo.png http://127.0.0.1:8080/predict",
      "  curl -F a=@one.png -F b=@two.png http://127.0.0.1:8080/v1/classify",
      "  curl -H 'Content-Type: image/png' --data-binary @photo.png \\",
      "       http://127.0.0.1:8080/v1/jobs             (then GET /v1/jobs/ID)",
      "  curl http://127.0.0.1:8080/v2/models/fashion-mnist   (KServe v2; …/infer)",
      "  curl http://127.0.0.1:8080/metrics                   (Prometheus)",
      "With --transport redis://…, kafka://… or postgresql://… each request goes through "
          + "the broker, answered once a worker (`conveyor worker`, anywhere) has stored its "
          + "result. When --queue requests wait, more get 429 with Retry-After. With --results-to URI "
          + "(or --dashboard-from URI) the dashboard also shows the results workers anywhere "
          + "store there: seed 004's UI over a PostgreSQL results table. Stops on SIGTERM or "
          + "Ctrl-C.",
      "",
    })
final class ServeCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return Serving.SETTINGS;
  }

  @Override
  public Map<String, List<String>> aliases() {
    return Map.of("results-to", List.of("sink"));
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.read(spec, settings());
    int n = CommandSettings.usage(spec, () -> Serving.workers(settings));
    if (settings.has(ServerSettings.TOKEN)) {
      CommandLineSecrets.warn(
          spec, "a token", "--token-file FILE or the CONVEYOR_TOKEN environment variable");
    }
    Serving serving = CommandSettings.usage(spec, () -> Serving.open(settings));
    ServerConfig config = serving.config();
    spec.commandLine()
        .getErr()
        .printf(
            "conveyor serve: %s://%s:%d/ (model %s, %s, %d worker(s) in this process)%n",
            config.tls() != null ? "https" : "http",
            config.bind(),
            serving.port(),
            serving.classify().model(),
            serving.classify().transport(),
            n);
    spec.commandLine().getErr().flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  serving.close();
                  stopped.countDown();
                },
                "conveyor-shutdown"));
    stopped.await();
    return 0;
  }
}
