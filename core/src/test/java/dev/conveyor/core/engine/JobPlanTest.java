package dev.conveyor.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobPlanTest {
  private static final SettingGroup PIPELINE =
      SettingGroup.of("Pipeline", Setting.integer("batch", 8, 1, "images per batch"));

  private static JobPlan read(Map<String, String> given) {
    return JobPlan.read(given, "job", JobSettings.FLINK, PIPELINE);
  }

  @Test
  void thePipelinesSettingsAreWhatIsGivenButTheEnginesOwn() {
    JobPlan plan =
        read(Map.of("source", "photos/", "sink", "out/", "parallelism", "3", "batch", "16"));
    assertThat(plan.source()).isEqualTo("photos/");
    assertThat(plan.sink()).isEqualTo("out/");
    assertThat(plan.toClient()).isFalse();
    assertThat(plan.parallelism()).isEqualTo(3);
    assertThat(plan.pipeline()).containsExactly(Map.entry("batch", "16"));
    assertThat(plan.name()).isEqualTo("conveyor: classify photos/");
  }

  @Test
  void resultsGoToTheClientByDefault() {
    JobPlan plan = read(Map.of("source", "photos/"));
    assertThat(plan.sink()).isEqualTo(JobPlan.STDOUT);
    assertThat(plan.toClient()).isTrue();
    assertThat(plan.get(JobSettings.CHECKPOINT_MS)).isEqualTo(10_000);
  }

  @Test
  void aJobWithoutASourceIsRefusedWithWhatToGive() {
    assertThatThrownBy(() -> read(Map.of("batch", "4")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("give --source: a folder, kafka://");
  }

  @Test
  void theSqlFunctionClassifiesAFolderOnlyAndTheOperatorIsTheDefault() {
    assertThat(read(Map.of("source", "photos/")).sqlFunction()).isFalse();
    assertThat(read(Map.of("source", "photos/", "api", "sql")).sqlFunction()).isTrue();
    assertThat(read(Map.of("source", "kafka://k:9092?topic=t")).sqlFunction()).isFalse();
    assertThatThrownBy(
            () -> read(Map.of("source", "kafka://k:9092?topic=t", "api", "sql")).sqlFunction())
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("--api sql runs the SQL function classify over a folder");
  }

  @Test
  void aSettingOfAnotherEngineIsUnknown() {
    assertThatThrownBy(() -> read(Map.of("source", "photos/", "watch", "true")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("watch");
  }

  @Test
  void aFolderIsAPathOrAFileUriAndAnythingElseWithASchemeIsAUri() {
    assertThat(JobPlan.isFolder("photos/")).isTrue();
    assertThat(JobPlan.isFolder("file:///data/photos")).isTrue();
    assertThat(JobPlan.isFolder("kafka://localhost:9092?topic=images")).isFalse();
    assertThat(JobPlan.isUri("redis://localhost:6379?mode=stream")).isTrue();
    assertThat(JobPlan.folder("file:///data/photos")).isEqualTo(Path.of("/data/photos"));
    assertThat(JobPlan.folder("photos")).isEqualTo(Path.of("photos"));
  }

  @Test
  void aSinkIsCheckedBeforeTheJobRuns() {
    JobPlan.checkSink("-");
    JobPlan.checkSink("results/");
    assertThatThrownBy(() -> JobPlan.checkSink(" "))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("give --sink");
    assertThatThrownBy(() -> JobPlan.checkSink("nosuch://host/x"))
        .isInstanceOf(ConveyorException.class)
        .extracting(e -> ((ConveyorException) e).code())
        .isEqualTo(ErrorCode.INVALID_SETTING);
  }
}
