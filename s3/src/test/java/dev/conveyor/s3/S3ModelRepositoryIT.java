package dev.conveyor.s3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.assembly.ModelLease;
import dev.conveyor.assembly.ModelSet;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.fetch.ObjectStores;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.testing.S3Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A model repository kept in a bucket of a real S3-compatible server (s3proxy): published into,
 * served from its local copy, rolled on to a new version and back when the newer one is deleted.
 */
@Timeout(180)
class S3ModelRepositoryIT {
  private static final String REPO = "s3://models/fleet";
  @TempDir static Path dir;
  private static S3Server server;
  private static Settings client;

  @BeforeAll
  static void start() throws Exception {
    server = S3Server.start(Files.createDirectories(dir.resolve("s3")));
    client = Settings.read(server.settings(), "test", FetchSettings.SETTINGS);
    try (ObjectStore store = ObjectStores.open("s3://models", client)) {
      store.checkBucket(true);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static String label(ModelLease lease, String image) {
    ClassifyResult r =
        lease
            .pipeline()
            .classify(List.of(ImageRequest.ofBytes(image, TestImages.bytes(image), null)))
            .get(0);
    assertThat(r.error()).as(image).isNull();
    return r.predictions().get(0).label();
  }

  @Test
  void aRepositoryInABucketIsPublishedServedRolledOnAndBack() throws Exception {
    Path model =
        TestModels.writeColour(dir.resolve("colour.onnx"), TestModels.Colour.imagenetSized());
    try (ModelRepository publishing = ModelRepository.forPublishing(REPO, client)) {
      assertThat(publishing.publish("colours", model)).isEqualTo(1);
      assertThat(publishing.location()).isEqualTo(REPO);
    }
    try (ObjectStore store = ObjectStores.open(REPO, client)) {
      store.put("colours/labels.txt", "rouge\nvert\nbleu\n".getBytes(UTF_8), "text/plain");
      store.put("colours/config.properties", "labels=labels.txt\n".getBytes(UTF_8), "text/plain");
      // what does not fit the layout is left out of the copy, and said
      store.put("notes.txt", "hello".getBytes(UTF_8), "text/plain");
      store.put("colours/1/weights/escape.bin", new byte[8], "application/octet-stream");
      assertThat(store.putNew("colours/1/model.onnx", model))
          .as("a version is never replaced")
          .isFalse();
    }
    Map<String, String> given = new HashMap<>(server.settings());
    given.put("models", REPO);
    given.put("default-model", "colours");
    given.put("models-poll", "3600"); // rolled on below by refresh(), not by the clock
    try (ServedModels served = ServedModels.open(ServedModels.read(given, "test"))) {
      ModelSet models = served.repository().orElseThrow();
      Path copy = models.repository().root();
      try (ModelLease lease = models.lease(null)) {
        assertThat(lease.version()).isEqualTo(1);
        assertThat(label(lease, "cmyk-red.jpg")).as("labels from the bucket").isEqualTo("rouge");
      }
      assertThat(models.repository().index().problems())
          .anySatisfy(p -> assertThat(p).contains("'notes.txt' does not fit"));
      try (Stream<Path> files = Files.walk(copy)) {
        assertThat(
                files
                    .filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith(".")) // the tags kept
                    .map(f -> copy.relativize(f).toString()))
            .as("only what fits the layout is copied")
            .containsExactlyInAnyOrder(
                "colours/1/model.onnx", "colours/labels.txt", "colours/config.properties");
      }

      try (ModelRepository publishing = ModelRepository.forPublishing(REPO, client)) {
        assertThat(publishing.publish("colours", model)).isEqualTo(2);
      }
      models.refresh();
      try (ModelLease lease = models.lease("colours")) {
        assertThat(lease.version()).as("the new version, pulled from the bucket").isEqualTo(2);
      }

      // going back: the newer version deleted from the bucket
      try (S3Client s3 = S3Clients.open(client)) {
        s3.deleteObject(b -> b.bucket("models").key("fleet/colours/2/model.onnx"));
      }
      models.refresh();
      try (ModelLease lease = models.lease("colours")) {
        assertThat(lease.version()).isEqualTo(1);
      }
      assertThat(copy.resolve("colours/2")).as("removed from the copy").doesNotExist();
    }
  }

  @Test
  void aRepositoryThatCannotBeReachedIsSaidAtStartWithoutItsSecrets() {
    Map<String, String> given = new HashMap<>(server.settings());
    given.put("models", "s3://no-such-bucket-here/repo");
    given.put("fetch-attempts", "1");
    assertThatThrownBy(() -> ServedModels.open(ServedModels.read(given, "test")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
        .hasMessageContaining("no-such-bucket-here")
        .hasMessageNotContaining(S3Server.SECRET_KEY);
  }
}
