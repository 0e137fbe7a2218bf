package dev.conveyor.core.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.fetch.Fetcher;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.LoneRequests;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerTest {
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private Worker worker(
      Transport transport, ResultSink sink, MeanColourClassifier model, int batch) {
    Worker w = TestWorkers.colour(transport, sink, model, batch);
    open.add(w);
    return w;
  }

  private static ClassifyResult await(CompletableFuture<ClassifyResult> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void goodOddAndBrokenImagesEachGetOneResult() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    worker(transport, transport, new MeanColourClassifier(32, 32), 4);
    String[] names = {
      "cmyk-red.jpg", "rgb16-green.png", "palette-blue.png", "animated-red-then-blue.gif",
      "empty.jpg", "truncated.jpg", "not-an-image.txt", "exif-rotated.jpg"
    };
    List<CompletableFuture<ClassifyResult>> futures = new ArrayList<>();
    for (String name : names) {
      futures.add(transport.submit(ImageRequest.ofBytes(name, TestImages.bytes(name), null)));
    }
    List<ClassifyResult> results = new ArrayList<>();
    for (CompletableFuture<ClassifyResult> f : futures) {
      results.add(await(f));
    }
    assertThat(results.get(0).top().label()).isEqualTo("red");
    assertThat(results.get(1).top().label()).isEqualTo("green");
    assertThat(results.get(2).top().label()).isEqualTo("blue");
    assertThat(results.get(3).top().label()).isEqualTo("red");
    assertThat(results.get(4).error().code()).isEqualTo(ErrorCode.EMPTY);
    assertThat(results.get(5).error().code()).isEqualTo(ErrorCode.CORRUPT);
    assertThat(results.get(6).error().code()).isEqualTo(ErrorCode.UNSUPPORTED_FORMAT);
    assertThat(results.get(7).isOk()).isTrue();
    for (int i = 0; i < names.length; i++) {
      assertThat(results.get(i).source()).isEqualTo(names[i]);
      assertThat(results.get(i).host()).isNotBlank();
      assertThat(results.get(i).latencyMs()).isPositive();
    }
    assertThat(results.get(0).model()).isEqualTo("mean-colour");
    assertThat(results.get(0).predictions()).hasSize(2);
  }

  @Test
  void requestsByKeyAreFetchedByTheWorker() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(8, 3);
    worker(transport, transport, new MeanColourClassifier(32, 32), 2);
    String path = TestImages.folder().resolve("palette-blue.png").toString();
    assertThat(await(transport.submit(ImageRequest.ofKey(path))).top().label()).isEqualTo("blue");
    ClassifyResult missing = await(transport.submit(ImageRequest.ofKey("/no/such/file.jpg")));
    assertThat(missing.error().code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(missing.error().message()).isEqualTo(FetchAllow.DENIED_MESSAGE);
  }

  @Test
  void requestsArriveTogetherAreBatchedUpToTheMaximum() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    MeanColourClassifier model = new MeanColourClassifier(32, 32);
    List<CompletableFuture<ClassifyResult>> futures = new ArrayList<>();
    byte[] red = TestImages.bytes("cmyk-red.jpg");
    for (int i = 0; i < 24; i++) {
      futures.add(transport.submit(ImageRequest.ofBytes("r" + i, red, null)));
    }
    worker(transport, transport, model, 8);
    for (CompletableFuture<ClassifyResult> f : futures) {
      assertThat(await(f).top().label()).isEqualTo("red");
    }
    assertThat(model.batchSizes()).allMatch(n -> n <= 8);
    assertThat(model.batchSizes()).contains(8);
  }

  @Test
  void anIdleWorkerStartsAtOnceAndABusyOneGathersABatch() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    MeanColourClassifier model = LoneRequests.slowModel();
    byte[] red = TestImages.bytes("cmyk-red.jpg");
    open.add(TestWorkers.colour(transport, transport, model, LoneRequests.CONFIG));
    long start = System.nanoTime();
    CompletableFuture<ClassifyResult> lone =
        transport.submit(ImageRequest.ofBytes("lone", red, null));
    LoneRequests.awaitTheFirstBatch(model);
    List<CompletableFuture<ClassifyResult>> more = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      more.add(transport.submit(ImageRequest.ofBytes("r" + i, red, null)));
    }
    await(lone);
    for (CompletableFuture<ClassifyResult> f : more) {
      await(f);
    }
    LoneRequests.assertTheLoneOneRanAloneAtOnce(model, start);
  }

  @Test
  void aFailingModelCallIsRetriedAndTheWorkerKeepsGoing() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    IntPredicate failFirst = call -> call == 1;
    worker(transport, transport, new MeanColourClassifier(32, 32, failFirst), 4);
    ClassifyResult r =
        await(transport.submit(ImageRequest.ofBytes("a", TestImages.bytes("cmyk-red.jpg"), null)));
    assertThat(r.isOk()).isTrue();
    assertThat(r.top().label()).isEqualTo("red");
  }

  @Test
  void aModelThatAlwaysFailsEndsInDeadLetterResults() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    worker(transport, transport, new MeanColourClassifier(32, 32, call -> true), 4);
    ClassifyResult r =
        await(transport.submit(ImageRequest.ofBytes("a", TestImages.bytes("cmyk-red.jpg"), null)));
    assertThat(r.error().code()).isEqualTo(ErrorCode.DEAD_LETTER);
    assertThat(r.error().message()).contains("3 deliveries").contains("the model failed");
  }

  @Test
  void resultsAreAcknowledgedOnlyAfterTheSinkStoresThem() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 5);
    AtomicInteger attempts = new AtomicInteger();
    ResultSink flaky =
        (requests, results) -> {
          if (attempts.incrementAndGet() == 1) {
            throw new java.io.IOException("store unavailable");
          }
          transport.deliver(requests, results);
        };
    worker(transport, flaky, new MeanColourClassifier(32, 32), 4);
    ClassifyResult r =
        await(
            transport.submit(
                ImageRequest.ofBytes("a", TestImages.bytes("palette-blue.png"), null)));
    assertThat(r.top().label()).isEqualTo("blue");
    assertThat(attempts.get()).isEqualTo(2);
  }

  @Test
  void aRetriableFailureIsRedeliveredAndAFinalOneIsAnErrorResultAtOnce() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    MeanColourClassifier model = new MeanColourClassifier(32, 32);
    AtomicInteger fetches = new AtomicInteger();
    Fetcher storeAwayOnce =
        (key, maxBytes) -> {
          if (key.equals("missing")) {
            throw new ConveyorException(ErrorCode.FETCH_FAILED, "no such object: " + key);
          }
          if (fetches.incrementAndGet() == 1) {
            throw new ConveyorException(ErrorCode.UNAVAILABLE, "the store is restarting");
          }
          return TestImages.bytes("palette-blue.png");
        };
    Pipeline colours = TestWorkers.pipeline(model, 4, storeAwayOnce);
    open.add(
        new Worker(
                WorkerSettings.config(Settings.none()).withBatchSize(4),
                colours,
                transport,
                transport)
            .start());
    ClassifyResult blue = await(transport.submit(ImageRequest.ofKey("blue-object")));
    assertThat(blue.isOk()).as("redelivered after the retriable failure").isTrue();
    assertThat(blue.top().label()).isEqualTo("blue");
    assertThat(fetches.get()).isEqualTo(2);
    ClassifyResult missing = await(transport.submit(ImageRequest.ofKey("missing")));
    assertThat(missing.error().code())
        .as("not retriable: answered at once")
        .isEqualTo(ErrorCode.FETCH_FAILED);
  }

  @Test
  void aTransportThatFailsForAWhileDoesNotStopTheWorker() throws Exception {
    EmbeddedTransport inner = new EmbeddedTransport(64, 3);
    AtomicInteger failures = new AtomicInteger();
    Transport flaky =
        new Transport() {
          @Override
          public List<Delivery> poll(int max, Duration timeout) throws InterruptedException {
            if (failures.incrementAndGet() <= 2) {
              throw new IllegalStateException("connection refused");
            }
            return inner.poll(max, timeout);
          }

          @Override
          public void ack(List<Delivery> deliveries) {
            inner.ack(deliveries);
          }

          @Override
          public void release(List<Delivery> deliveries, String reason) {
            inner.release(deliveries, reason);
          }

          @Override
          public String describe() {
            return "flaky";
          }
        };
    worker(flaky, inner, new MeanColourClassifier(32, 32), 4);
    ClassifyResult r =
        await(inner.submit(ImageRequest.ofBytes("a", TestImages.bytes("palette-blue.png"), null)));
    assertThat(r.top().label()).isEqualTo("blue");
    assertThat(failures.get()).isGreaterThan(2);
  }

  @Test
  void stoppingFinishesTheBatchesAlreadyTaken() throws Exception {
    EmbeddedTransport transport = new EmbeddedTransport(64, 3);
    MeanColourClassifier model = new MeanColourClassifier(32, 32).slow(200);
    Worker w = worker(transport, transport, model, 4);
    List<CompletableFuture<ClassifyResult>> futures = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      futures.add(
          transport.submit(ImageRequest.ofBytes("r" + i, TestImages.bytes("yellow.bmp"), null)));
    }
    LoneRequests.awaitTheFirstBatch(model); // a batch is in the model: taken, not answered
    w.stop(10_000);
    long done = futures.stream().filter(CompletableFuture::isDone).count();
    long waiting = transport.depth();
    assertThat(done)
        .as("the batch in the model at the stop was finished")
        .isGreaterThanOrEqualTo(model.batchSizes().get(0));
    assertThat(waiting).as("what was not taken stays queued").isPositive();
    assertThat(done + waiting).as("every request is either answered or still queued").isEqualTo(40);
    assertThat(w.stats().ok()).isEqualTo(done);
    assertThat(futures.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join))
        .allSatisfy(r -> assertThat(r.isOk()).isTrue());
  }
}
