package dev.conveyor.jdbc;

import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.BrokerProvider;
import java.util.List;
import java.util.Map;

/** Makes {@code postgresql://} (and {@code postgres://}) addresses known to Conveyor. */
public final class PostgresBrokerProvider implements BrokerProvider {
  @Override
  public List<String> schemes() {
    return List.of("postgresql", "postgres");
  }

  @Override
  public String example() {
    return "postgresql://user@host:5432/db?table=conveyor_queue";
  }

  @Override
  public SettingGroup settings() {
    return PostgresSettings.ALL;
  }

  @Override
  public Broker open(String uri, Map<String, String> overrides) {
    return new PostgresBroker(PostgresConfig.parse(uri, overrides));
  }
}
