package dev.conveyor.cli;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.server.Classify;
import dev.conveyor.server.ConveyorServer;
import dev.conveyor.server.ServerConfig;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conveyor serve}: the HTTP API over in-process workers and the bundled model. */
@Command(
    name = "serve",
    header = "Serve the HTTP API: POST an image, get its classes.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts the HTTP server with workers in this process on the embedded transport:",
      "  curl -X POST -F image=@photo.png http://127.0.0.1:8080/predict",
      "  curl -X POST -F a=@one.png -F b=@two.png http://127.0.0.1:8080/v1/classify",
      "  curl http://127.0.0.1:8080/v2/health/ready",
      "When --queue requests are waiting, more get 429 with Retry-After. Stops on SIGTERM or Ctrl-C.",
      ""
    })
final class ServeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--port",
      paramLabel = "N",
      defaultValue = "8080",
      description = "Port to listen on; 0 for any free one. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--bind",
      paramLabel = "HOST",
      defaultValue = "127.0.0.1",
      description = "Address to listen on. Default: ${DEFAULT-VALUE} (this machine only).")
  String bind;

  @Option(
      names = "--token",
      paramLabel = "T",
      description = "Require 'Authorization: Bearer T' on every request but the health checks.")
  String token;

  @Option(
      names = "--timeout",
      paramLabel = "S",
      defaultValue = "30",
      description =
          "Seconds a caller waits for its result (504 beyond). Default: ${DEFAULT-VALUE}.")
  int timeoutSeconds;

  @Mixin ModelOptions model;

  @Mixin BatchOptions batch;

  @Override
  public Integer call() throws Exception {
    CountDownLatch stopped = new CountDownLatch(1);
    try (Engine engine = Engine.load(model, spec.commandLine());
        Engine.Embedded running = engine.startEmbedded(batch, model)) {
      ServerConfig config =
          ServerConfig.defaults()
              .withBind(bind)
              .withPort(port)
              .withToken(token)
              .withMaxRequestBytes(model.maxBytes)
              .withResultTimeout(Duration.ofSeconds(timeoutSeconds));
      String name = engine.classifier.spec().name();
      ConveyorServer server =
          new ConveyorServer(
                  config,
                  new Classify() {
                    @Override
                    public CompletableFuture<ClassifyResult> submit(ImageRequest request) {
                      return running.transport().submit(request);
                    }

                    @Override
                    public String model() {
                      return name;
                    }
                  })
              .start();
      spec.commandLine()
          .getErr()
          .printf("conveyor serve: http://%s:%d/ (model %s)%n", bind, server.port(), name);
      spec.commandLine().getErr().flush();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    server.close();
                    stopped.countDown();
                  },
                  "conveyor-shutdown"));
      stopped.await();
    }
    return 0;
  }
}
