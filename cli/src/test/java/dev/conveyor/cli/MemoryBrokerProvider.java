package dev.conveyor.cli;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.BrokerProvider;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Results;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A broker that no command knows of, registered only through this module's test {@code
 * META-INF/services}: {@code memory://NAME} keeps, per name, a result for each request sent to it.
 * It shows that a new broker needs a provider and a services line, and no edit to the commands.
 */
public final class MemoryBrokerProvider implements BrokerProvider {
  static final Map<String, List<ClassifyResult>> STORED = new ConcurrentHashMap<>();
  private static final Setting<String> MODEL =
      Setting.text("model-name", "memory", "the model name its results carry");
  private static final SettingGroup SETTINGS = SettingGroup.of("Memory URI settings", MODEL);

  @Override
  public List<String> schemes() {
    return List.of("memory");
  }

  @Override
  public String example() {
    return "memory://name";
  }

  @Override
  public SettingGroup settings() {
    return SETTINGS;
  }

  @Override
  public Broker open(String uri, Map<String, String> overrides) {
    var query = dev.conveyor.core.settings.Arguments.query(uri);
    String name = query.base().substring("memory://".length());
    Settings s = Settings.read(query.params(), "memory URI", SETTINGS);
    List<ClassifyResult> results = STORED.computeIfAbsent(name, k -> new CopyOnWriteArrayList<>());
    return new MemoryBroker(uri, s.get(MODEL), results);
  }

  private record MemoryBroker(String uri, String model, List<ClassifyResult> kept)
      implements Broker {
    public String describe() {
      return uri;
    }

    public Transport transport(int maxBatch) {
      throw unsupported();
    }

    public ResultSink sink() {
      throw unsupported();
    }

    public Replies client() {
      throw unsupported();
    }

    private static ConveyorException unsupported() {
      return new ConveyorException(
          ErrorCode.INVALID_SETTING, "memory:// only keeps what it is sent");
    }

    public Requests producer() {
      return new Requests() {
        public void send(ImageRequest r, Duration maxWait) {
          kept.add(ClassifyResult.ok(r, model, List.of(), "memory", 0));
        }

        public List<Failure> flush(Duration maxWait) {
          return List.of();
        }

        public void close() {}
      };
    }

    public Results results() {
      return new Results() {
        public ClassifyResult get(String id) {
          return kept.stream().filter(r -> r.id().equals(id)).findFirst().orElse(null);
        }

        public void stored(Consumer<String> json) {
          kept.forEach(r -> json.accept(Json.write(r)));
        }

        public void follow(BooleanSupplier running, Consumer<String> json) {
          stored(json);
        }

        public void close() {}
      };
    }
  }
}
