package dev.conveyor.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.onnx.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** One worker, one queue, several models: each request is answered by the model it names. */
@Timeout(60)
class ModelRoutingTest {
  @TempDir Path repo;

  private void publish(String model, int version) {
    TestModels.publishColour(repo, model, version);
  }

  @Test
  void eachRequestIsAnsweredByTheModelItNamesAndAnUnknownOneGetsACode() throws Exception {
    publish("colours", 1);
    publish("french", 3);
    Files.writeString(repo.resolve("french/labels.txt"), "rouge\nvert\nbleu\n");
    Files.writeString(repo.resolve("french/config.properties"), "labels=labels.txt\n");
    Map<String, String> settings = Map.of("batch", "4", "linger-ms", "20");
    String[] names = {null, "french", "nosuch", "colours"};
    String[] images = {"cmyk-red.jpg", "palette-blue.png"};

    try (ModelSet models = new ModelSet(ModelRepository.open(repo), "colours", settings);
        EmbeddedTransport transport = new EmbeddedTransport(64, 3);
        Worker worker =
            new Worker(
                    Pipelines.workerConfig(Pipelines.read(settings, "test")),
                    models,
                    transport,
                    transport)
                .start()) {
      List<ImageRequest> sent = new ArrayList<>();
      List<CompletableFuture<ClassifyResult>> answers = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String image = images[i % 2];
        ImageRequest r =
            ImageRequest.ofBytes(image, TestImages.bytes(image), null).withModel(names[i % 4]);
        sent.add(r);
        answers.add(transport.submit(r, Duration.ofSeconds(30)));
      }
      for (int i = 0; i < sent.size(); i++) {
        ClassifyResult r = answers.get(i).get(30, TimeUnit.SECONDS);
        String name = sent.get(i).model();
        boolean red = sent.get(i).source().contains("red");
        if ("nosuch".equals(name)) {
          assertThat(r.error().code()).isEqualTo(ErrorCode.UNKNOWN_MODEL);
          assertThat(r.error().message()).doesNotContain("nosuch");
          continue;
        }
        assertThat(r.error()).as("request %d", i).isNull();
        if ("french".equals(name)) {
          assertThat(r.model()).isEqualTo("french");
          assertThat(r.version()).isEqualTo(3L);
          assertThat(r.top().label()).isEqualTo(red ? "rouge" : "bleu");
        } else {
          assertThat(r.model()).as("named, or the default").isEqualTo("colours");
          assertThat(r.version()).isEqualTo(1L);
          assertThat(r.top().label()).isEqualTo(red ? "red" : "blue");
        }
      }
      assertThat(worker.alive()).as("an unknown model stops nothing").isTrue();
      assertThat(worker.stats().batches())
          .as("a batch holds one model's requests: at least one batch per model")
          .isGreaterThanOrEqualTo(2);
    }
  }
}
