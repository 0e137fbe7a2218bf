package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The operator inside a Flink test harness: batching, its timer, the checkpoint barrier. */
@Timeout(60)
class ClassifyOperatorTest {
  static final String MODEL =
      Path.of("..", "models", "fashion-mnist.onnx").toAbsolutePath().normalize().toString();

  private static OneInputStreamOperatorTestHarness<Incoming, Classified> harness(
      String batch, String linger) throws Exception {
    ClassifyOperator<Incoming, Classified> operator =
        ClassifyOperator.forJob(
            Map.of(
                "model",
                MODEL,
                "batch",
                batch,
                "linger-ms",
                linger,
                "fetch-allow",
                "file:" + TestImages.folder()));
    OneInputStreamOperatorTestHarness<Incoming, Classified> h =
        new OneInputStreamOperatorTestHarness<>(operator);
    h.open();
    return h;
  }

  /**
   * The results once at least {@code n} are out: batches run on the operator's threads and hand
   * their results to the task's mailbox, which this runs as the task's thread would.
   */
  static <O> List<O> emitted(OneInputStreamOperatorTestHarness<?, O> h, int n) throws Exception {
    while (h.extractOutputValues().size() < n) {
      h.getTaskMailbox().take(TaskMailbox.MIN_PRIORITY).run();
    }
    return h.extractOutputValues();
  }

  private static JsonNode tree(Classified c) {
    return Json.read(c.json(), JsonNode.class);
  }

  private static Incoming image(String name) {
    return Incoming.of(ImageRequest.ofKey(TestImages.folder().resolve(name).toString()));
  }

  @Test
  void aFullBatchRunsAtOnceAndTheRestBeforeTheCheckpointBarrier() throws Exception {
    try (var h = harness("2", "600000")) {
      h.processElement(image("tiny-gray.png"), 0);
      assertThat(h.extractOutputValues()).isEmpty();
      h.processElement(image("palette-blue.png"), 0);
      assertThat(emitted(h, 2)).as("a full batch runs at once").hasSize(2);
      h.processElement(image("truncated.jpg"), 0);
      assertThat(h.extractOutputValues()).hasSize(2);
      h.prepareSnapshotPreBarrier(1);
      List<JsonNode> results =
          h.extractOutputValues().stream().map(ClassifyOperatorTest::tree).toList();
      assertThat(results).as("nothing waits in the buffer across a checkpoint").hasSize(3);
      assertThat(results.get(0).get("status").asText()).isEqualTo("ok");
      assertThat(results.get(0).get("model").asText()).isEqualTo("fashion-mnist");
      assertThat(results.get(2).at("/error/code").asText())
          .as("a bad image is an error result, not a failed job")
          .isEqualTo("CORRUPT");
      assertThat(h.extractOutputValues().get(2).ok()).isFalse();
    }
  }

  @Test
  void aMessageTheSourceCouldNotReadIsABadRequestResult() throws Exception {
    try (var h = harness("4", "600000")) {
      h.processElement(
          Incoming.of(ImageRequest.unreadable("e-1", "images@1-0", "not a Conveyor request")), 0);
      List<Classified> out = h.extractOutputValues();
      assertThat(out).hasSize(1);
      assertThat(out.get(0).id()).isEqualTo("e-1");
      JsonNode r = tree(out.get(0));
      assertThat(r.at("/error/code").asText()).isEqualTo("BAD_REQUEST");
      assertThat(r.at("/error/message").asText()).isEqualTo("not a Conveyor request");
    }
  }

  @Test
  void theReplyAddressAndTheSourceEntryTravelWithTheResult() throws Exception {
    try (var h = harness("1", "600000")) {
      ImageRequest r = image("palette-blue.png").request();
      h.processElement(
          new Incoming(
              new ImageRequest(r.id(), r.source(), null, null, "replies:caller-7", 0), "17-0"),
          0);
      emitted(h, 1);
      assertThat(h.extractOutputValues().get(0).replyTo()).isEqualTo("replies:caller-7");
      assertThat(h.extractOutputValues().get(0).id()).isEqualTo(r.id());
      assertThat(h.extractOutputValues().get(0).entry())
          .as("the sink acknowledges it once stored")
          .isEqualTo("17-0");
    }
  }

  @Test
  void aLoneRequestRunsWhenTheLingerTimerFires() throws Exception {
    try (var h = harness("8", "50")) {
      h.setProcessingTime(1_000);
      h.processElement(image("palette-blue.png"), 0);
      h.setProcessingTime(1_049);
      assertThat(h.extractOutputValues()).isEmpty();
      h.setProcessingTime(1_050);
      assertThat(emitted(h, 1)).hasSize(1);
    }
  }

  /** A model whose first two calls each wait until the other has begun. */
  static final class TwoAtOnce implements Classifier {
    private final MeanColourClassifier model = new MeanColourClassifier(32, 32);
    private final CountDownLatch both = new CountDownLatch(2);
    final List<Boolean> met = new CopyOnWriteArrayList<>();

    @Override
    public ModelSpec spec() {
      return model.spec();
    }

    @Override
    public void run(FloatBuffer input, int count, FloatBuffer output) {
      both.countDown();
      try {
        met.add(both.await(20, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      model.run(input, count, output);
    }

    @Override
    public void close() {
      model.close();
    }
  }

  @Test
  void twoBatchesRunAtOnceAndTheirResultsComeOutInTheOrderTheyBegan() throws Exception {
    TwoAtOnce model = new TwoAtOnce();
    var operator =
        new ClassifyOperator<>(
            Map.of("model", MODEL, "batch", "2", "linger-ms", "600000"),
            new ClassifyOperator.JobShape(),
            s -> TestWorkers.pipeline(model, 2, TestWorkers.anyFile()));
    try (var h = new OneInputStreamOperatorTestHarness<>(operator)) {
      h.open();
      List<String> sent = new ArrayList<>();
      for (String name :
          List.of("yellow.bmp", "palette-blue.png", "tiny-gray.png", "yellow.bmp", "gray.jpg")) {
        Incoming in = image(name);
        sent.add(in.request().id());
        h.processElement(in, 0);
      }
      h.endInput();
      assertThat(h.extractOutputValues().stream().map(Classified::id))
          .as("every result, in the order the requests came")
          .containsExactlyElementsOf(sent);
      assertThat(model.met.subList(0, 2))
          .as("the second batch began while the model ran the first")
          .containsExactly(true, true);
    }
  }

  @Test
  void theEndOfABoundedInputRunsWhatIsLeft() throws Exception {
    try (var h = harness("8", "600000")) {
      h.processElement(image("palette-blue.png"), 0);
      h.processElement(image("yellow.bmp"), 0);
      h.endInput();
      assertThat(h.extractOutputValues()).hasSize(2);
    }
  }

  @Test
  void aBadSettingFailsOnTheClientBeforeTheJobIsSubmitted() {
    assertThatThrownBy(() -> ClassifyOperator.forJob(Map.of("bacth", "2")))
        .hasMessageContaining("unknown job settings [bacth]");
  }

  /** The bundled model, published into {@code repo} as the next version of {@code name}. */
  static long publish(Path repo, String name) {
    return dev.conveyor.core.model.ModelRepository.create(repo).publish(name, Path.of(MODEL));
  }

  @Test
  void aRepositorysModelsAnswerTheRequestsNamingThemAndANewVersionTakesTheBatchesAfterIt(
      @org.junit.jupiter.api.io.TempDir Path repo) throws Exception {
    assertThat(publish(repo, "fashion")).isEqualTo(1);
    assertThat(publish(repo, "other")).isEqualTo(1);
    ClassifyOperator<Incoming, Classified> operator =
        ClassifyOperator.forJob(
            Map.of(
                "models", repo.toString(),
                "default-model", "fashion",
                "models-poll", "1",
                "batch", "4",
                "linger-ms", "600000",
                "fetch-allow", "file:" + TestImages.folder()));
    try (var h = new OneInputStreamOperatorTestHarness<Incoming, Classified>(operator)) {
      h.open();
      h.processElement(image("palette-blue.png"), 0);
      h.processElement(
          Incoming.of(
              ImageRequest.ofKey(TestImages.folder().resolve("tiny-gray.png").toString())
                  .withModel("other")),
          0);
      h.processElement(
          Incoming.of(
              ImageRequest.ofKey(TestImages.folder().resolve("tiny-gray.png").toString())
                  .withModel("x".repeat(100_000))),
          0);
      h.prepareSnapshotPreBarrier(1);
      List<JsonNode> first =
          h.extractOutputValues().stream().map(ClassifyOperatorTest::tree).toList();
      assertThat(first).hasSize(3);
      assertThat(first.get(0).get("model").asText() + " " + first.get(0).get("version").asLong())
          .isEqualTo("fashion 1");
      assertThat(first.get(1).get("model").asText() + " " + first.get(1).get("version").asLong())
          .isEqualTo("other 1");
      assertThat(first.get(2).at("/error/code").asText())
          .as("an unknown model is an error result, and the task goes on")
          .isEqualTo("UNKNOWN_MODEL");
      assertThat(first.get(2).toString()).doesNotContain("x".repeat(100));

      // version 2 published while the task runs: a batch after it is classified by it
      assertThat(publish(repo, "fashion")).isEqualTo(2);
      long deadline = System.nanoTime() + 30_000_000_000L;
      int seen = 3;
      List<Long> versions = new java.util.ArrayList<>();
      while (!versions.contains(2L) && System.nanoTime() < deadline) {
        h.processElement(image("palette-blue.png"), 0);
        h.prepareSnapshotPreBarrier(2);
        List<Classified> out = h.extractOutputValues();
        for (Classified c : out.subList(seen, out.size())) {
          versions.add(tree(c).get("version").asLong());
        }
        seen = out.size();
        Thread.sleep(50);
      }
      for (int i = 0; i < 3; i++) {
        h.processElement(image("palette-blue.png"), 0);
      }
      h.prepareSnapshotPreBarrier(3);
      List<Classified> out = h.extractOutputValues();
      for (Classified c : out.subList(seen, out.size())) {
        versions.add(tree(c).get("version").asLong());
      }
      assertThat(versions).as("version 1 until the switch, then version 2 only").contains(2L);
      assertThat(versions.subList(versions.indexOf(2L), versions.size())).containsOnly(2L);
    }
  }
}
