package dev.conveyor.cli;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.kafka.KafkaAddress;
import dev.conveyor.kafka.KafkaRequests;
import dev.conveyor.kafka.KafkaResultSink;
import dev.conveyor.kafka.KafkaResults;
import dev.conveyor.kafka.KafkaTransport;
import dev.conveyor.redis.Redis;
import dev.conveyor.redis.RedisAddress;
import dev.conveyor.redis.RedisProducer;
import dev.conveyor.redis.RedisResults;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Reads the broker URIs commands take (redis://, kafka://), turning bad ones into usage errors. */
final class Brokers {
  private static final String KINDS =
      "redis://host:port?mode=list|pubsub|stream or kafka://host:port?topic=…";

  private Brokers() {}

  /** What a worker needs of a broker. */
  interface Endpoint {
    Transport transport(int batch);

    ResultSink sink();

    String describe();
  }

  /** Sends requests; closing waits until the broker has them all. */
  interface Sender extends AutoCloseable {
    void send(ImageRequest request, Duration maxWait) throws InterruptedException;

    @Override
    void close();
  }

  /**
   * A producer that waits for its results: each request names where its result goes (Redis: a reply
   * list of this client's; Kafka: the results topic, read from when the client was made).
   */
  interface Client extends AutoCloseable {
    /** Sends one request; BUSY when the broker's backlog stays full for {@code maxWait}. */
    void send(ImageRequest request, Duration maxWait) throws InterruptedException;

    /** Waits a little (at most about half a second) for results and hands each on. */
    void poll(Consumer<ClassifyResult> results);

    /** For people: {@code redis list}, {@code kafka}… */
    String name();

    @Override
    void close();
  }

  static Endpoint endpoint(CommandSpec spec, String uri) {
    if (KafkaAddress.handles(uri)) {
      KafkaAddress k = kafka(spec, uri);
      return new Endpoint() {
        public Transport transport(int batch) {
          return new KafkaTransport(k, batch);
        }

        public ResultSink sink() {
          return new KafkaResultSink(k);
        }

        public String describe() {
          return k.describe();
        }
      };
    }
    RedisAddress r = redis(spec, uri);
    return new Endpoint() {
      public Transport transport(int batch) {
        return Redis.transport(r);
      }

      public ResultSink sink() {
        return Redis.sink(r);
      }

      public String describe() {
        return r.describe();
      }
    };
  }

  static Sender sender(CommandSpec spec, String uri) {
    if (KafkaAddress.handles(uri)) {
      KafkaRequests requests = new KafkaRequests(kafka(spec, uri));
      return new Sender() {
        public void send(ImageRequest request, Duration maxWait) {
          requests.send(request);
        }

        public void close() {
          requests.flush();
          requests.close();
        }
      };
    }
    RedisProducer producer = Redis.producer(redis(spec, uri));
    return new Sender() {
      public void send(ImageRequest request, Duration maxWait) throws InterruptedException {
        producer.send(request, maxWait);
      }

      public void close() {
        producer.close();
      }
    };
  }

  static Client client(CommandSpec spec, String uri) {
    if (KafkaAddress.handles(uri)) {
      KafkaRequests requests = new KafkaRequests(kafka(spec, uri));
      KafkaResults results = new KafkaResults(kafka(spec, uri));
      results.fromNow();
      return new Client() {
        public void send(ImageRequest request, Duration maxWait) {
          requests.send(request);
        }

        public void poll(Consumer<ClassifyResult> sink) {
          results.poll(json -> sink.accept(Json.read(json, ClassifyResult.class)));
        }

        public String name() {
          return "kafka";
        }

        public void close() {
          requests.close();
          results.close();
        }
      };
    }
    RedisAddress address = redis(spec, uri);
    String replyTo = address.resultPrefix() + "replies:" + UUID.randomUUID();
    RedisProducer producer = Redis.producer(address);
    RedisResults results = Redis.results(address);
    return new Client() {
      public void send(ImageRequest r, Duration maxWait) throws InterruptedException {
        producer.send(
            new ImageRequest(
                r.id(), r.source(), r.bytes(), r.contentType(), replyTo, r.enqueuedNanos()),
            maxWait);
      }

      public void poll(Consumer<ClassifyResult> sink) {
        ClassifyResult r = results.awaitReply(replyTo, Duration.ofMillis(500));
        if (r != null) {
          sink.accept(r);
        }
      }

      public String name() {
        return "redis " + address.mode().name().toLowerCase(Locale.ROOT);
      }

      public void close() {
        producer.close();
        results.close();
      }
    };
  }

  /**
   * A Kafka URI with its {@code partitions} setting replaced, for the {@code --partitions} option.
   */
  static String withPartitions(String uri, Integer partitions) {
    if (partitions == null || !KafkaAddress.handles(uri)) {
      return uri;
    }
    String without = uri.replaceAll("([?&])partitions=[^&]*&?", "$1").replaceAll("[?&]$", "");
    return without + (without.contains("?") ? "&" : "?") + "partitions=" + partitions;
  }

  static RedisAddress redis(CommandSpec spec, String uri) {
    if (!RedisAddress.handles(uri)) {
      throw new ParameterException(
          spec.commandLine(), "unsupported broker URI '" + uri + "': use " + KINDS);
    }
    return parse(spec, uri, RedisAddress::parse);
  }

  static KafkaAddress kafka(CommandSpec spec, String uri) {
    return parse(spec, uri, KafkaAddress::parse);
  }

  private static <T> T parse(CommandSpec spec, String uri, Function<String, T> parser) {
    try {
      return parser.apply(uri);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
