package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor settings}: the catalogue as tables, and the options made from it. */
@Timeout(30)
class SettingsCommandTest {
  @Test
  void updateRewritesTheMarkedTablesAndAddsTheGroupsAFileLacks(@TempDir Path dir) throws Exception {
    Path page = dir.resolve("settings.md");
    Files.writeString(
        page,
        "# Settings\n\nProse stays.\n\n<!-- settings:batching -->\n| stale |\n<!-- /settings -->\n"
            + "\nMore prose.\n");
    CliRun update = CliRun.of("settings", "--update", page.toString());
    assertThat(update.exitCode()).as(update.err()).isZero();
    assertThat(update.out()).contains("updated " + page);
    String text = Files.readString(page);
    assertThat(text)
        .startsWith("# Settings\n\nProse stays.\n\n<!-- settings:batching -->\n| option |")
        .contains("| `--linger-ms N` |")
        .contains("\nMore prose.\n")
        .doesNotContain("| stale |");
    assertThat(SettingsCommand.sections(text))
        .as("every group has its section, the one that was there first")
        .startsWith("batching")
        .containsExactlyInAnyOrderElementsOf(SettingsCommand.tables().keySet());
    assertThat(SettingsCommand.updated(text)).as("a second update changes nothing").isEqualTo(text);
    CliRun again = CliRun.of("settings", "--update-readme", page.toString());
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).as("the old name still works").contains(page + " is up to date");
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
