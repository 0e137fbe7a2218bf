package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisConfigTest {
  @Test
  void defaultsAreTheDocumentedOnes() {
    RedisConfig a = RedisConfig.parse("redis://localhost:6379");
    assertThat(a.mode()).isEqualTo(RedisConfig.Mode.LIST);
    assertThat(a.images()).isEqualTo("conveyor:images");
    assertThat(a.results()).isEqualTo("conveyor:results");
    assertThat(a.resultPrefix()).isEqualTo("conveyor:result:");
    assertThat(a.resultTtl()).isEqualTo(Duration.ofHours(1));
    assertThat(a.group()).isEqualTo("conveyor");
    assertThat(a.deadLetter()).isEqualTo("conveyor:dead");
    assertThat(a.maxLength()).isEqualTo(10_000);
    assertThat(a.maxDeliveries()).isEqualTo(3);
  }

  @Test
  void everySettingComesFromTheQueryAndCredentialsFromTheUri() {
    RedisConfig a =
        RedisConfig.parse(
            "rediss://worker:s3cret@redis.example:6380/2?mode=stream&images=in&results=out&result-prefix=r:"
                + "&ttl=60&group=g&dead-letter=dl&max-length=500&claim-idle=5&max-deliveries=7");
    assertThat(a.mode()).isEqualTo(RedisConfig.Mode.STREAM);
    assertThat(a.uri().isSsl()).isTrue();
    assertThat(a.uri().getUsername()).isEqualTo("worker");
    assertThat(new String(a.uri().getPassword())).isEqualTo("s3cret");
    assertThat(a.uri().getDatabase()).isEqualTo(2);
    assertThat(a.images()).isEqualTo("in");
    assertThat(a.results()).isEqualTo("out");
    assertThat(a.resultPrefix()).isEqualTo("r:");
    assertThat(a.resultTtl()).isEqualTo(Duration.ofSeconds(60));
    assertThat(a.group()).isEqualTo("g");
    assertThat(a.deadLetter()).isEqualTo("dl");
    assertThat(a.maxLength()).isEqualTo(500);
    assertThat(a.claimIdle()).isEqualTo(Duration.ofSeconds(5));
    assertThat(a.maxDeliveries()).isEqualTo(7);
    assertThat(a.describe()).doesNotContain("s3cret");
  }

  @Test
  void mistakesAreNamed() {
    assertThatThrownBy(() -> RedisConfig.parse("redis://h:1?mode=queue"))
        .hasMessageContaining("mode must be list, pubsub or stream");
    assertThatThrownBy(() -> RedisConfig.parse("redis://h:1?ttl=-4"))
        .hasMessageContaining("ttl must be a positive whole number");
    assertThatThrownBy(() -> RedisConfig.parse("redis://h:1?imagez=x"))
        .hasMessageContaining("unknown Redis URI settings [imagez]");
    assertThatThrownBy(() -> RedisConfig.parse("http://h:1"))
        .hasMessageContaining("not a Redis URI");
  }
}
