package dev.conveyor.core.transport;

import dev.conveyor.core.settings.SettingGroup;
import java.util.List;
import java.util.Map;

/**
 * Makes a broker known to Conveyor by its URI schemes. Each broker module ships one, listed in
 * {@code META-INF/services/dev.conveyor.core.transport.BrokerProvider}; {@link Brokers} finds it
 * there, so that commands, the server and the engines never name a broker.
 */
public interface BrokerProvider {

  /** The URI schemes this broker answers to, without {@code ://}: {@code redis}, {@code rediss}. */
  List<String> schemes();

  /** An example address, for help and error messages: {@code redis://host:6379?mode=stream}. */
  String example();

  /** The settings its URIs take as query parameters: declared once, documented from here. */
  SettingGroup settings();

  /**
   * Reads an address. Nothing is connected yet.
   *
   * @param overrides settings given apart from the URI (command-line options), which win
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  Broker open(String uri, Map<String, String> overrides);
}
