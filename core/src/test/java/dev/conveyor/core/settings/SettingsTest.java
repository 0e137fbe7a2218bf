package dev.conveyor.core.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
  private static final Setting<Integer> BATCH = Setting.integer("batch", 8, 1, "images per call");
  private static final Setting<String> MODE =
      Setting.choice("mode", "list", "how", "list", "pubsub", "stream");
  private static final Setting<Duration> TTL = Setting.seconds("ttl", 60, "kept");
  private static final Setting<Boolean> SPIN = Setting.flag("spin", "spin");
  private static final SettingGroup GROUP =
      SettingGroup.of("Test", BATCH, MODE, TTL, SPIN).passingThrough("client.");

  @Test
  void givenValuesAreReadAndTheRestAreDefaults() {
    Settings s = Settings.read(Map.of("batch", "16", "mode", "STREAM"), "test", GROUP);
    assertThat(s.get(BATCH)).isEqualTo(16);
    assertThat(s.get(MODE)).isEqualTo("stream");
    assertThat(s.get(TTL)).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.get(SPIN)).isFalse();
    assertThat(s.has(BATCH)).isTrue();
    assertThat(s.has(TTL)).isFalse();
  }

  @Test
  void prefixedSettingsPassThroughWithoutThePrefix() {
    Settings s = Settings.read(Map.of("client.acks", "all"), "test", GROUP);
    assertThat(s.passedThrough()).containsExactly(Map.entry("acks", "all"));
  }

  @Test
  void unknownNamesAreErrorsThatNameThemAndTheClosestKnownOne() {
    Map<String, String> given = new LinkedHashMap<>();
    given.put("bacth", "4");
    given.put("zzz", "1");
    assertThatThrownBy(() -> Settings.read(given, "test", GROUP))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("unknown test settings [bacth, zzz]")
        .hasMessageContaining("did you mean 'batch' for 'bacth'")
        .hasMessageContaining("known: batch, mode, ttl, spin")
        .hasMessageContaining("client.* passed to the client library")
        .satisfies(
            e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.INVALID_SETTING));
  }

  @Test
  void invalidValuesSayWhatIsAllowed() {
    assertThatThrownBy(() -> Settings.read(Map.of("batch", "0"), "test", GROUP))
        .hasMessageContaining("batch must be a positive whole number, not '0'");
    assertThatThrownBy(() -> Settings.read(Map.of("mode", "queue"), "test", GROUP))
        .hasMessageContaining("unknown mode 'queue': mode must be list, pubsub or stream");
    assertThatThrownBy(() -> Settings.read(Map.of("ttl", "-1"), "test", GROUP))
        .hasMessageContaining("ttl must be a positive whole number of seconds");
    assertThatThrownBy(() -> Settings.read(Map.of("spin", "maybe"), "test", GROUP))
        .hasMessageContaining("spin must be true or false");
  }

  @Test
  void jobArgumentsAndUriQueriesBecomeNamedValues() {
    assertThat(Arguments.fromArgs("--batch", "16", "--spin", "--mode=stream"))
        .containsExactly(
            Map.entry("batch", "16"), Map.entry("spin", "true"), Map.entry("mode", "stream"));
    assertThatThrownBy(() -> Arguments.fromArgs("batch", "16"))
        .hasMessageContaining("expected --name value, not 'batch'");
    Arguments.Query q = Arguments.query("redis://h:1/0?mode=stream&group=a%20b&flag");
    assertThat(q.base()).isEqualTo("redis://h:1/0");
    assertThat(q.params())
        .containsExactly(
            Map.entry("mode", "stream"), Map.entry("group", "a b"), Map.entry("flag", ""));
  }

  @Test
  void theReadmeTableHasARowPerSetting() {
    String table = SettingsTable.markdown(GROUP, true);
    assertThat(table)
        .contains("| `--batch N` | `8` | images per call |")
        .contains("| `--mode list\\|pubsub\\|stream` | `list` | how |")
        .contains("| `--spin` | `off` | spin |")
        .contains("| `client.*` |");
  }
}
