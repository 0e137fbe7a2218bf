package dev.conveyor.cli;

import dev.conveyor.core.worker.Worker;
import dev.conveyor.onnx.OnnxClassifier;
import dev.conveyor.server.Classify;
import dev.conveyor.server.ConveyorServer;
import dev.conveyor.server.EmbeddedClassify;
import dev.conveyor.server.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
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
      "Starts the HTTP server with workers in this process and the bundled model.",
      "Open http://127.0.0.1:8080/ for the web page and live dashboard, or:",
      "  curl -F image=@photo.png http://127.0.0.1:8080/predict",
      "  curl -F a=@one.png -F b=@two.png http://127.0.0.1:8080/v1/classify",
      "  curl -H 'Content-Type: image/png' --data-binary @photo.png \\",
      "       http://127.0.0.1:8080/v1/jobs             (then GET /v1/jobs/ID)",
      "  curl http://127.0.0.1:8080/v2/models/fashion-mnist   (KServe v2; …/infer)",
      "  curl http://127.0.0.1:8080/metrics                   (Prometheus)",
      "With --transport redis://… or kafka://… each request goes through the broker,",
      "answered once a worker (`conveyor worker`, anywhere) has stored its result.",
      "When --queue requests wait, more get 429 with Retry-After.",
      "Stops on SIGTERM or Ctrl-C.",
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
      names = "--transport",
      paramLabel = "URI",
      defaultValue = "embedded",
      description =
          "Where requests go: embedded (workers in this process),"
              + " redis://host:port?mode=list|stream|pubsub or kafka://host:port?topic=…,"
              + " the URI `conveyor worker --from` takes. Default: ${DEFAULT-VALUE}.")
  String transport;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description =
          "Workers in this process, sharing the model. Default: 1 on the embedded transport,"
              + " 0 with a broker (run `conveyor worker` instead, or as well).")
  Integer workers;

  @Option(
      names = "--token",
      paramLabel = "T",
      description =
          "Require 'Authorization: Bearer T' on the API (not on the page, health checks or /v1/info).")
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
    boolean embedded = transport.equalsIgnoreCase("embedded");
    int n = workers != null ? workers : embedded ? 1 : 0;
    if (n < 0 || (embedded && n < 1)) {
      throw new ParameterException(
          spec.commandLine(),
          "--workers must be at least 1 on the embedded transport, 0 or more with a broker");
    }
    Brokers.Endpoint broker = embedded ? null : Brokers.endpoint(spec, transport);
    ServerConfig config =
        ServerConfig.defaults()
            .withBind(bind)
            .withPort(port)
            .withToken(token)
            .withMaxRequestBytes(model.maxBytes)
            .withResultTimeout(Duration.ofSeconds(timeoutSeconds));
    List<AutoCloseable> open = new ArrayList<>();
    try {
      Classify classify;
      if (embedded) {
        Engine engine = Engine.load(model, spec.commandLine());
        open.add(engine);
        Engine.Embedded running = engine.startEmbedded(batch, model, n);
        open.add(running);
        classify =
            new EmbeddedClassify(
                running.transport(), running.workers(), engine.classifier.spec().name(), model.top);
      } else {
        String name = modelName();
        List<Worker> local = List.of();
        if (n > 0) {
          Engine engine = Engine.load(model, spec.commandLine());
          open.add(engine);
          Engine.Running running = engine.startWorkers(broker, n, batch, model);
          open.add(running);
          local = running.workers();
          name = engine.classifier.spec().name();
        }
        BrokerClassify through =
            new BrokerClassify(
                Brokers.client(spec, transport),
                broker.describe(),
                name,
                model.top,
                batch.queue,
                config.resultTimeout().plusSeconds(5),
                local);
        open.add(through);
        classify = through;
      }
      ConveyorServer server = new ConveyorServer(config, classify).start();
      open.add(server);
      spec.commandLine()
          .getErr()
          .printf(
              "conveyor serve: http://%s:%d/ (model %s, %s, %d worker(s) in this process)%n",
              bind, server.port(), classify.model(), classify.transport(), n);
      spec.commandLine().getErr().flush();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    Engine.closeAll(open);
                    stopped.countDown();
                  },
                  "conveyor-shutdown"));
      stopped.await();
      return 0;
    } catch (RuntimeException e) {
      Engine.closeAll(open);
      throw e;
    }
  }

  /** With a broker and no workers here, the model is named by --model's file (not loaded). */
  private String modelName() {
    return OnnxClassifier.modelName(
        model.model != null ? model.model : Path.of(Engine.DEFAULT_MODEL));
  }
}
