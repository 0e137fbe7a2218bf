package dev.conveyor.kafka;

import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.BrokerProvider;
import java.util.List;
import java.util.Map;

/** Makes {@code kafka://} addresses known to Conveyor. */
public final class KafkaBrokerProvider implements BrokerProvider {
  @Override
  public List<String> schemes() {
    return List.of("kafka");
  }

  @Override
  public String example() {
    return "kafka://host:port?topic=…";
  }

  @Override
  public SettingGroup settings() {
    return KafkaSettings.ALL;
  }

  @Override
  public Broker open(String uri, Map<String, String> overrides) {
    return new KafkaBroker(KafkaConfig.parse(uri, overrides));
  }
}
