package dev.conveyor.redis;

import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.BrokerProvider;
import java.util.List;
import java.util.Map;

/** Makes {@code redis://} and {@code rediss://} addresses known to Conveyor. */
public final class RedisBrokerProvider implements BrokerProvider {
  @Override
  public List<String> schemes() {
    return List.of("redis", "rediss");
  }

  @Override
  public String example() {
    return "redis://host:port?mode=list|pubsub|stream";
  }

  @Override
  public SettingGroup settings() {
    return RedisSettings.ALL;
  }

  @Override
  public Broker open(String uri, Map<String, String> overrides) {
    return new RedisBroker(RedisConfig.parse(uri, overrides));
  }
}
