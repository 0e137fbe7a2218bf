package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import dev.conveyor.testing.S3Server;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --http}: the server started in the bench and loaded at each concurrency; {@code
 * bench --store}: the images put into an object store and sent by key.
 */
class BenchCommandIT {
  @TempDir Path dir;

  @Test
  void httpLoadsTheServerAtEachConcurrencyGiven() throws Exception {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    CliRun run =
        CliRun.of(
            "bench",
            "--model",
            model.toString(),
            "--seconds",
            "0.5",
            "--batch",
            "4",
            "--http",
            "1,4",
            "--chart",
            dir.resolve("bench.png").toString(),
            "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("### HTTP: POST /v1/classify")
        .containsPattern("\\| 1 \\| [0-9.]+ \\|")
        .containsPattern("\\| 4 \\| [0-9.]+ \\|");
    JsonNode http = run.jsonLines().get(0).get("http");
    assertThat(http).hasSize(2);
    assertThat(http.get(0).get("concurrency").asInt()).isEqualTo(1);
    assertThat(http.get(1).get("concurrency").asInt()).isEqualTo(4);
    for (JsonNode level : http) {
      assertThat(level.get("ips").asDouble()).as("answered calls per second").isPositive();
      assertThat(level.get("p99_ms").asDouble())
          .isGreaterThanOrEqualTo(level.get("p50_ms").asDouble());
    }
    assertThat(http.get(0).get("mean_batch").asDouble())
        .as("one caller at a time: batches of one")
        .isEqualTo(1.0);
  }

  @Test
  void withAStoreTheImagesArePutThereAndWorkersFetchThemByKey() throws Exception {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    Path images = Files.createDirectories(dir.resolve("images"));
    for (String name : new String[] {"palette-blue.png", "cmyk-red.jpg", "rgb16-green.png"}) {
      Files.copy(TestImages.folder().resolve(name), images.resolve(name));
    }
    try (S3Server s3 = S3Server.start(Files.createDirectories(dir.resolve("s3")))) {
      String[] common = {
        "bench",
        "--model",
        model.toString(),
        "--images",
        images.toString(),
        "--seconds",
        "0.3",
        "--batch",
        "2",
        "--chart",
        dir.resolve("bench.png").toString(),
        "--s3-endpoint",
        s3.endpoint(),
        "--s3-path-style",
        "--s3-region",
        "us-east-1",
        "--store"
      };
      CliRun bad = CliRun.of(append(common, "s3://Not_A_Bucket/x"));
      assertThat(bad.exitCode()).as(bad.err()).isEqualTo(2);
      assertThat(bad.err()).contains("--store: not a bucket name");

      CliRun run = CliRun.of(append(common, "s3://bench-images/run1"));
      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.out()).contains("s3 → embedded");
      for (int i = 0; i < 3; i++) {
        assertThat(s3.bucketFolder("bench-images").resolve("run1/bench-0000" + i))
            .as("image %d put under the prefix, the bucket made", i)
            .exists();
      }
    }
  }

  private static String[] append(String[] args, String last) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = last;
    return all;
  }
}
