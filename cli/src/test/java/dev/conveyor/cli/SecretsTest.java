package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Passwords, tokens and JAAS configurations given in broker addresses never reach errors or the
 * descriptions that logs, {@code /v1/info} and the dashboard show; one given on the command line
 * draws a warning that names where it can come from instead.
 */
@Timeout(60)
class SecretsTest {
  private static final String SEEN_IN_PS =
      " on the command line can be read by every local user (ps); prefer ";

  @TempDir Path dir;

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

  private static long warnings(CliRun run) {
    return run.err().lines().filter(l -> l.contains(SEEN_IN_PS)).count();
  }

  @Test
  void aSecretInABrokerUriOnTheCommandLineDrawsOneWarningNamingTheFileAndVariable() {
    String bogus = "redis://127.0.0.1:1?mode=bogus";
    String[][] cases = {
      {"worker", "--from", "redis://:hunter2@127.0.0.1:1?mode=bogus"},
      {
        "conveyor worker: the password in --transport",
        "password-file=FILE in the URI or the CONVEYOR_REDIS_PASSWORD environment variable"
      },
      {"worker", "--transport", "kafka://127.0.0.1:1?topic=t&partitions=x&" + JAAS},
      {
        "conveyor worker: kafka.sasl.jaas.config in --transport",
        "sasl-jaas-file=FILE in the URI or the CONVEYOR_KAFKA_SASL_JAAS_CONFIG environment variable"
      },
      {"worker", "--from", bogus, "--sink", "postgresql://alice:hunter2@db/jobs?results=r"},
      {
        "conveyor worker: the password in --results-to",
        "password-file=FILE in the URI or the PGPASSWORD environment variable"
      },
      {
        "results",
        "--from",
        "kafka://127.0.0.1:1?topic=t&partitions=x&kafka.ssl.key.password=hunter2"
      },
      {"conveyor results: kafka.ssl.key.password in --from", "a file or the environment"},
    };
    for (int i = 0; i < cases.length; i += 2) {
      CliRun run = CliRun.of(cases[i]);
      String args = String.join(" ", cases[i]);
      assertThat(run.exitCode()).as(args).isEqualTo(2);
      assertThat(warnings(run)).as(args).isEqualTo(1);
      assertThat(run.err()).as(args).contains(cases[i + 1][0] + SEEN_IN_PS + cases[i + 1][1]);
      assertThat(run.err()).as(args).doesNotContain("hunter2");
    }
  }

  @Test
  void noWarningWhenTheSecretComesFromAFileTheEnvironmentOrAnArgumentFile() throws Exception {
    Path password = Files.writeString(dir.resolve("password"), "hunter2\n");
    CliRun fromFile =
        CliRun.of(
            "worker",
            "--from",
            "redis://conveyor@127.0.0.1:1?mode=bogus&password-file=" + password);
    assertThat(fromFile.exitCode()).isEqualTo(2);
    assertThat(warnings(fromFile)).isZero();
    Path arguments =
        Files.writeString(
            dir.resolve("arguments"), "--from redis://:hunter2@127.0.0.1:1?mode=bogus\n");
    CliRun fromArgumentFile = CliRun.of("worker", "@" + arguments);
    assertThat(fromArgumentFile.err()).contains("mode must be");
    assertThat(warnings(fromArgumentFile)).isZero();
    assertThat(fromArgumentFile.err()).doesNotContain("hunter2");
  }

  @Test
  void aBadPasswordFileIsAUsageErrorNamingItWithoutItsText() throws Exception {
    Path missing = dir.resolve("missing");
    CliRun run =
        CliRun.of("worker", "--from", "redis://127.0.0.1:1?mode=stream&password-file=" + missing);
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("password-file " + missing).contains("cannot be read");
    Path empty = Files.writeString(dir.resolve("empty"), "\nhunter2\n");
    CliRun emptyRun =
        CliRun.of("produce", "--to", "postgresql://alice@db/jobs?password-file=" + empty, "x.png");
    assertThat(emptyRun.exitCode()).isEqualTo(2);
    assertThat(emptyRun.err()).contains("password-file " + empty).doesNotContain("hunter2");
  }

  @Test
  void serveWarnsAboutATokenOnTheCommandLineInTheSameWords() {
    CliRun run =
        CliRun.of(
            "serve",
            "--token",
            "token-hunter2",
            "--port",
            "0",
            "--dashboard-from",
            "redis://127.0.0.1:1?mode=bogus");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains(
            "conveyor serve: a token"
                + SEEN_IN_PS
                + "--token-file FILE or the CONVEYOR_TOKEN environment variable");
  }
}
