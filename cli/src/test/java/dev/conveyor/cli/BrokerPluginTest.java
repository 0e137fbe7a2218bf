package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A broker the commands never heard of is used through its URI scheme alone. */
@Timeout(60)
class BrokerPluginTest {
  @TempDir Path dir;

  @Test
  void aBrokerOnTheClassPathIsFoundByItsSchemeWithNoEditToTheCommands() throws Exception {
    Path image = Files.write(dir.resolve("shirt.png"), new byte[] {1, 2, 3});
    CliRun produce =
        CliRun.of("produce", "--to", "memory://plug?model-name=plugged", image.toString());
    assertThat(produce.exitCode()).as(produce.err()).isZero();
    assertThat(produce.err()).contains("sent 1 images to memory://plug");
    CliRun results = CliRun.of("results", "--from", "memory://plug");
    assertThat(results.exitCode()).as(results.err()).isZero();
    assertThat(results.jsonLines())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.get("source").asText()).endsWith("shirt.png");
              assertThat(r.get("model").asText()).isEqualTo("plugged");
            });
    CliRun typo = CliRun.of("results", "--from", "memory://plug?model-nam=x");
    assertThat(typo.exitCode()).isEqualTo(2);
    assertThat(typo.err()).contains("unknown memory URI settings [model-nam]");
  }

  @Test
  void anUnknownSchemeNamesEveryBrokerOnTheClassPath() {
    CliRun run = CliRun.of("results", "--from", "nats://127.0.0.1:4222");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("no broker for 'nats://127.0.0.1:4222'")
        .contains("redis://host:port?mode=list|pubsub|stream")
        .contains("kafka://host:port?topic=")
        .contains("memory://name");
  }
}
