package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.broker.Broker;
import dev.conveyor.core.broker.Brokers;
import org.junit.jupiter.api.Test;

/**
 * Passwords, tokens and JAAS configurations given in broker addresses never reach errors or the
 * descriptions that logs, {@code /v1/info} and the dashboard show.
 */
class SecretsTest {
  private static final String JAAS =
      "kafka.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule+required"
          + "+username%3D%22alice%22+password%3D%22hunter2%22%3B";

  @Test
  void aBadAddressIsReportedWithoutItsSecrets() {
    for (String uri :
        new String[] {
          "redis://:hunter2@127.0.0.1:1?mode=bogus",
          "rediss://alice:hunter2@127.0.0.1:1?mode=stream&nonsense=1",
          "redis://alice:hunter2@[bad",
          "kafka://?topic=t&" + JAAS,
          "kafka://127.0.0.1:1?topic=t&partitions=x&" + JAAS,
          "postgresql://alice:hunter2@db",
          "postgresql://alice:hunter2@db/jobs?nonsense=1",
          "nope://alice:hunter2@somewhere"
        }) {
      CliRun run = CliRun.of("worker", "--from", uri);
      assertThat(run.exitCode()).as(uri).isEqualTo(2);
      assertThat(run.err()).as(uri).isNotBlank().doesNotContain("hunter2");
      assertThat(run.out()).as(uri).doesNotContain("hunter2");
    }
  }

  @Test
  void aBrokerDescribesItselfWithoutItsSecrets() {
    for (String uri :
        new String[] {
          "redis://:hunter2@127.0.0.1:1?mode=stream",
          "rediss://alice:hunter2@127.0.0.1:1",
          "kafka://127.0.0.1:1?topic=t&" + JAAS + "&kafka.ssl.key.password=hunter2",
          "postgresql://alice:hunter2@127.0.0.1:1/jobs"
        }) {
      Broker broker = Brokers.open(uri);
      assertThat(broker.describe()).as(uri).isNotBlank().doesNotContain("hunter2");
      assertThat(broker.toString()).as(uri).doesNotContain("hunter2");
    }
  }
}
