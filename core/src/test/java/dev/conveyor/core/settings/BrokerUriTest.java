package dev.conveyor.core.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class BrokerUriTest {
  private static final Setting<String> TABLE = Setting.text("table", "queue", "the table");
  private static final Setting<Integer> POOL = Setting.integer("pool", 2, 1, "connections");
  private static final BrokerUri.Kind KIND =
      new BrokerUri.Kind(
          "Example",
          List.of("example", "ex"),
          "example://host:1/db?table=…",
          SettingGroup.of("Example", TABLE, POOL));

  @Test
  void splitsTheUserPartHostsAndPathAndReadsTheQueryAsDeclaredSettings() {
    BrokerUri uri =
        BrokerUri.parse(
            "EX://al%40ice:p%3Ass@db.example:6543/jobs?table=t",
            KIND, Map.of("pool", "5"), Map.of("table", "from-option"));
    assertThat(uri.scheme()).isEqualTo("ex");
    assertThat(uri.user()).isEqualTo("al@ice");
    assertThat(uri.password()).isEqualTo("p:ss");
    assertThat(uri.host()).isEqualTo("db.example");
    assertThat(uri.port(1)).isEqualTo(6543);
    assertThat(uri.path()).isEqualTo("jobs");
    assertThat(uri.settings().get(TABLE))
        .as("an option wins over the query")
        .isEqualTo("from-option");
    assertThat(uri.settings().get(POOL)).as("a default the query leaves").isEqualTo(5);
    assertThat(uri.toString()).doesNotContain("p%3Ass").contains("***");
  }

  @Test
  void severalHostsAndNoUserOrPort() {
    BrokerUri uri = BrokerUri.parse("example://h1:9092,h2:9092/", KIND, Map.of(), Map.of());
    assertThat(uri.hosts()).isEqualTo("h1:9092,h2:9092");
    assertThat(uri.user()).isNull();
    assertThat(uri.password()).isNull();
    assertThat(BrokerUri.parse("ex://[::1]/db", KIND, Map.of(), Map.of()).port(5432))
        .isEqualTo(5432);
    assertThat(BrokerUri.parse("ex://[::1]:7/db", KIND, Map.of(), Map.of()).host())
        .isEqualTo("[::1]");
  }

  @Test
  void aWrongSchemeAMissingHostOrAnUnknownSettingIsRefusedWithoutTheSecret() {
    assertThatThrownBy(() -> BrokerUri.parse("other://u:hunter2@h", KIND, Map.of(), Map.of()))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("not a Example URI")
        .hasMessageContaining("example://host:1/db")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> BrokerUri.parse("ex://u:hunter2@/db", KIND, Map.of(), Map.of()))
        .hasMessageContaining("names no host")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> BrokerUri.parse("ex://h/db?tabel=x", KIND, Map.of(), Map.of()))
        .hasMessageContaining("did you mean 'table'");
  }

  @Test
  void aPasswordWithSlashesAtSignsOrABadEscapeNeverReachesAMessage() {
    BrokerUri odd = BrokerUri.parse("ex://u:pa/s@s@db:7/jobs", KIND, Map.of(), Map.of());
    assertThat(odd.password()).isEqualTo("pa/s@s");
    assertThat(odd.host()).isEqualTo("db");
    assertThat(odd.path()).isEqualTo("jobs");
    assertThat(odd.toString()).isEqualTo("ex://***@db:7/jobs");
    assertThatThrownBy(
            () -> BrokerUri.parse("ex://u:pa/ss@db:x/j", KIND, Map.of(), Map.of()).port(1))
        .hasMessageContaining("port is not a number")
        .hasMessageNotContaining("pa/ss");
    assertThatThrownBy(() -> BrokerUri.parse("ex://u:se%cret@db/j", KIND, Map.of(), Map.of()))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("not percent-encoded")
        .hasMessageNotContaining("cret")
        .hasMessageNotContaining("se%");
    assertThatThrownBy(() -> BrokerUri.parse("other://u:pa/ss@db/j", KIND, Map.of(), Map.of()))
        .hasMessageNotContaining("pa/ss");
  }
}
