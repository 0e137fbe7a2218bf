package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which Host names a server answers for, by default and as the operator lists them. */
@Timeout(10)
class AllowedHostsTest {
  @Test
  void onLoopbackOnlyTheLoopbackNamesAreAnsweredByDefault() {
    AllowedHosts local = AllowedHosts.of(null, "127.0.0.1");
    assertThat(List.of("localhost", "LOCALHOST", "localhost.", "127.0.0.1", "[::1]", "::1"))
        .allMatch(local::allows);
    assertThat(List.of("evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "10.0.0.5"))
        .noneMatch(local::allows);
    assertThat(local.allows(null)).isFalse();
    assertThat(AllowedHosts.of(null, "127.0.0.2").allows("127.0.0.2"))
        .as("the address it is bound to names it too")
        .isTrue();
    assertThat(AllowedHosts.of(null, "localhost").allows("evil.example")).isFalse();
  }

  @Test
  void elsewhereAnyNameIsAnsweredUnlessTheOperatorListsThem() {
    assertThat(AllowedHosts.of(null, "0.0.0.0").allows("conveyor.example")).isTrue();
    AllowedHosts listed = AllowedHosts.of(List.of("Conveyor.Example", "10.0.0.5"), "0.0.0.0");
    assertThat(listed.allows("conveyor.example")).isTrue();
    assertThat(listed.allows("10.0.0.5")).isTrue();
    assertThat(listed.allows("localhost")).as("the list replaces the default").isFalse();
    assertThat(AllowedHosts.of(List.of("*"), "127.0.0.1").allows("anything.example")).isTrue();
  }

  @Test
  void theSettingTakesNamesAndAddressesWithoutPorts() {
    assertThat(AllowedHosts.parse(" a.example, b ,,[::1] "))
        .containsExactly("a.example", "b", "[::1]");
    assertThat(List.of("a.example", "localhost,127.0.0.1", "[::1]", "::1", "*", "fe80::1"))
        .allMatch(AllowedHosts::isList);
    assertThat(List.of("", ",", "a.example:8080", "1.2.3.4:80", "[::1]:80", "a b", "*.example"))
        .noneMatch(AllowedHosts::isList);
  }
}
