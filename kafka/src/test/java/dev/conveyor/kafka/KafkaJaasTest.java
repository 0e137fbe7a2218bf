package dev.conveyor.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The SASL JAAS configuration from {@code sasl-jaas-file} or the environment. */
@Timeout(30)
class KafkaJaasTest {
  private static final String JAAS =
      "org.apache.kafka.common.security.scram.ScramLoginModule required"
          + " username=\"alice\" password=\"hunter2\";";
  private static final String SASL = "kafka://b:9093?kafka.security.protocol=SASL_SSL";

  @TempDir Path dir;

  private static String jaas(KafkaConfig a) {
    return a.properties().getProperty("sasl.jaas.config");
  }

  @Test
  void theFileHoldsTheValueOrAJaasFilesOneSection() throws Exception {
    Path value = Files.writeString(dir.resolve("value.conf"), JAAS + "\n");
    assertThat(jaas(KafkaConfig.parse(SASL + "&sasl-jaas-file=" + value, Map.of(), Map.of())))
        .isEqualTo(JAAS);
    Path section =
        Files.writeString(dir.resolve("client.conf"), "KafkaClient {\n  " + JAAS + "\n};\n");
    KafkaConfig a = KafkaConfig.parse(SASL + "&sasl-jaas-file=" + section, Map.of(), Map.of());
    assertThat(jaas(a)).isEqualTo(JAAS);
    assertThat(a.toString()).doesNotContain("hunter2");
  }

  @Test
  void theEnvironmentServesASaslConnectionThatGivesNoneOfItsOwn() throws Exception {
    Map<String, String> env = Map.of(KafkaJaas.VARIABLE, JAAS);
    assertThat(jaas(KafkaConfig.parse(SASL, Map.of(), env))).isEqualTo(JAAS);
    assertThat(jaas(KafkaConfig.parse("kafka://b:9092?topic=t", Map.of(), env))).isNull();
    String own = JAAS.replace("hunter2", "own-pass");
    String uri = SASL + "&kafka.sasl.jaas.config=" + URLEncoder.encode(own, StandardCharsets.UTF_8);
    assertThat(jaas(KafkaConfig.parse(uri, Map.of(), env))).isEqualTo(own);
  }

  @Test
  void aFileThatCannotBeUsedIsAnErrorNamingTheSettingAndPathButNeverTheText() throws Exception {
    Path missing = dir.resolve("nope.conf");
    assertThatThrownBy(
            () -> KafkaConfig.parse(SASL + "&sasl-jaas-file=" + missing, Map.of(), Map.of()))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("sasl-jaas-file " + missing)
        .hasMessageContaining("cannot be read");
    Path blank = Files.writeString(dir.resolve("blank.conf"), "  \n");
    assertThatThrownBy(
            () -> KafkaConfig.parse(SASL + "&sasl-jaas-file=" + blank, Map.of(), Map.of()))
        .hasMessageContaining("sasl-jaas-file " + blank)
        .hasMessageContaining("empty");
    Path file = Files.writeString(dir.resolve("value.conf"), JAAS);
    String both =
        SASL
            + "&sasl-jaas-file="
            + file
            + "&kafka.sasl.jaas.config="
            + URLEncoder.encode(JAAS, StandardCharsets.UTF_8);
    assertThatThrownBy(() -> KafkaConfig.parse(both, Map.of(), Map.of()))
        .hasMessageContaining("give one")
        .hasMessageNotContaining("hunter2");
  }
}
