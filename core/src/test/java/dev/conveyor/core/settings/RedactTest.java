package dev.conveyor.core.settings;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactTest {
  @Test
  void aPasswordInTheUserPartIsHiddenAndTheUserKept() {
    assertThat(Arguments.redact("redis://alice:hunter2@cache:6379/0?mode=stream"))
        .isEqualTo("redis://alice:***@cache:6379/0?mode=stream");
    assertThat(Arguments.redact("rediss://:hunter2@cache:6380"))
        .isEqualTo("rediss://:***@cache:6380");
    assertThat(Arguments.redact("postgresql://conveyor@db/jobs"))
        .isEqualTo("postgresql://conveyor@db/jobs");
    // Redis clients read a user part without a colon as the password
    assertThat(Arguments.redact("redis://hunter2@cache:6379")).isEqualTo("redis://***@cache:6379");
  }

  @Test
  void secretQueryParametersAreHiddenAndTheRestKept() {
    String uri =
        "kafka://b:9093?topic=images&kafka.sasl.jaas.config=org.apache.kafka.common.security.scram."
            + "ScramLoginModule+required+username%3D%22alice%22+password%3D%22hunter2%22%3B"
            + "&kafka.ssl.key.password=hunter3&kafka.ssl.truststore.location=/ca.pem"
            + "&password=hunter4&token=hunter5&kafka.sasl.oauthbearer.client.credentials.client.secret=h6";
    String shown = Arguments.redact(uri);
    assertThat(shown)
        .doesNotContain("hunter2", "hunter3", "hunter4", "hunter5", "h6", "alice")
        .contains("topic=images", "kafka.ssl.truststore.location=/ca.pem")
        .contains("kafka.sasl.jaas.config=***", "kafka.ssl.key.password=***");
  }

  @Test
  void nothingToHideIsLeftAlone() {
    assertThat(Arguments.redact("embedded://")).isEqualTo("embedded://");
    assertThat(Arguments.redact("s3://bucket/key")).isEqualTo("s3://bucket/key");
    assertThat(Arguments.redact(null)).isNull();
    // where a key's image is, not a key that opens anything
    assertThat(Arguments.redact("kafka://b:9092?topic=t&key-prefix=s3://images/&kafka.ssl.key=x"))
        .isEqualTo("kafka://b:9092?topic=t&key-prefix=s3://images/&kafka.ssl.key=***");
  }
}
