package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.SettingGroup;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A broker for tests, registered through this module's test {@code META-INF/services}: {@code
 * echo://NAME} answers every request a client sends at once, with an {@code ok} result of model
 * {@code echo} and no predictions, and keeps every answer, and every result workers deliver to its
 * sink, as its stored results.
 */
public final class EchoBrokerProvider implements BrokerProvider {
  /** Every answer, in the order given. */
  static final List<ClassifyResult> ANSWERED = new CopyOnWriteArrayList<>();

  @Override
  public List<String> schemes() {
    return List.of("echo");
  }

  @Override
  public String example() {
    return "echo://name";
  }

  @Override
  public SettingGroup settings() {
    return SettingGroup.of("Echo URI settings");
  }

  @Override
  public Broker open(String uri, Map<String, String> overrides) {
    return new EchoBroker(uri);
  }

  private record EchoBroker(String uri) implements Broker {
    public String describe() {
      return uri;
    }

    public Transport transport(int maxBatch) {
      throw unsupported();
    }

    /** Keeps what workers deliver with the answers. */
    public ResultSink sink() {
      return (requests, results) -> ANSWERED.addAll(results);
    }

    public Requests producer() {
      throw unsupported();
    }

    private static ConveyorException unsupported() {
      return new ConveyorException(ErrorCode.INVALID_SETTING, "echo:// only answers clients");
    }

    public Replies client() {
      ConcurrentLinkedQueue<ClassifyResult> due = new ConcurrentLinkedQueue<>();
      return new Replies() {
        public void send(ImageRequest request, Duration maxWait) {
          ClassifyResult r = ClassifyResult.ok(request, "echo", List.of(), "echo-host", 0);
          ANSWERED.add(r);
          due.add(r);
        }

        public void poll(Consumer<ClassifyResult> results) {
          ClassifyResult r = due.poll();
          if (r == null) {
            try {
              Thread.sleep(5);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return;
          }
          for (; r != null; r = due.poll()) {
            results.accept(r);
          }
        }

        public String name() {
          return "echo";
        }

        public void close() {}
      };
    }

    public Results results() {
      return new Results() {
        public ClassifyResult get(String id) {
          return ANSWERED.stream().filter(r -> r.id().equals(id)).findFirst().orElse(null);
        }

        public void stored(Consumer<String> json) {
          ANSWERED.forEach(r -> json.accept(Json.write(r)));
        }

        public void follow(BooleanSupplier running, Consumer<String> json) {
          stored(json);
        }

        public void close() {}
      };
    }
  }
}
