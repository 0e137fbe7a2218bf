package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ReadmeSettingsTest {
  private static final Path README =
      Path.of(System.getProperty("conveyor.home", "..")).resolve("README.md");

  @Test
  void theReadmesSettingsTablesAreTheCatalogues() throws Exception {
    String readme = Files.readString(README);
    for (String section :
        java.util.List.of("model", "batching", "server", "jobs", "spark-jobs", "redis", "kafka")) {
      assertThat(readme)
          .as("README section " + section)
          .contains("<!-- settings:" + section + " -->");
    }
    assertThat(SettingsCommand.updated(readme))
        .as(
            "the README's settings tables differ from the settings declared in the code;"
                + " run ./conveyor settings --update-readme README.md")
        .isEqualTo(readme);
  }

  @Test
  void theSettingsCommandListsEveryGroup() {
    CliRun settings = CliRun.of("settings");
    assertThat(settings.exitCode()).as(settings.err()).isZero();
    assertThat(settings.out())
        .contains("--checkpoint-ms")
        .contains("| `requests` |")
        .contains("| `key-prefix` |");
    assertThat(settings.out().lines().filter(l -> l.startsWith("## ")).count())
        .isEqualTo(SettingsCommand.tables().size());
  }

  @Test
  void everyOptionOfACommandThatClassifiesComesFromTheCatalogue() {
    CliRun help = CliRun.of("worker", "--help");
    assertThat(help.out())
        .contains("--batch=N")
        .contains("--linger-ms=N")
        .contains("--preset=auto|imagenet|caffe|tf-resnet-v1|fashion-mnist")
        .contains("--spin")
        .contains("Default: 20 MiB.");
  }

  @Test
  void aMistypedOptionOrUriSettingIsAUsageErrorNamingIt() {
    CliRun option = CliRun.of("classify", "--bacth", "4", "x.png");
    assertThat(option.exitCode()).isEqualTo(2);
    assertThat(option.err()).contains("--bacth");
    CliRun value = CliRun.of("classify", "--batch", "zero", "x.png");
    assertThat(value.exitCode()).isEqualTo(2);
    assertThat(value.err()).contains("batch must be a positive whole number, not 'zero'");
    CliRun uri = CliRun.of("worker", "--from", "redis://127.0.0.1:1?grup=g");
    assertThat(uri.exitCode()).isEqualTo(2);
    assertThat(uri.err())
        .contains("unknown Redis URI settings [grup]")
        .contains("did you mean 'group'");
    CliRun kafka = CliRun.of("results", "--from", "kafka://127.0.0.1:1?session.timeout.ms=10");
    assertThat(kafka.exitCode()).isEqualTo(2);
    assertThat(kafka.err()).contains("kafka.* passed to the client library");
  }
}
