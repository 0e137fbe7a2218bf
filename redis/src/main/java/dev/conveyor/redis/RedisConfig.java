package dev.conveyor.redis;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.decode.ImageFormat;
import dev.conveyor.core.preprocess.Layout;
import dev.conveyor.core.preprocess.PreprocessSettings;
import dev.conveyor.core.preprocess.TensorReader;
import dev.conveyor.core.settings.Arguments;
import dev.conveyor.core.settings.BrokerUri;
import dev.conveyor.core.settings.Settings;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where and how Conveyor uses Redis, from a URI: {@code
 * redis://[user:password@]host:port[/db]?mode=list|pubsub|stream&...} ({@code rediss://} for TLS).
 * The query's settings are declared in {@link RedisSettings}; an unknown or invalid one is an error
 * naming it. A {@code profile} fills in the settings of an existing client's contract. A password
 * may instead come from a file or the environment, out of sight of {@code ps} ({@link
 * RedisPassword}).
 *
 * @param replyPrefix the namespace of the reply lists requests may name
 * @param seed003Results results are stored at their keys in seed 003's shape
 * @param tensorLayout the layout of untyped tensors in requests, or {@code null}
 * @param ca with {@code rediss://}, the PEM certificates to trust, or {@code null} for the JVM's
 * @param exactlyOnce list and stream modes: each result stored with its request's acknowledgement,
 *     in one script
 */
public record RedisConfig(
    RedisURI uri,
    Mode mode,
    String images,
    String results,
    String resultPrefix,
    String replyPrefix,
    Duration resultTtl,
    String group,
    String deadLetter,
    long maxLength,
    Duration claimIdle,
    int maxDeliveries,
    Duration heartbeat,
    boolean seed003Results,
    Layout tensorLayout,
    Path ca,
    boolean exactlyOnce) {

  /**
   * The reply namespace, checked to share no key with the worker's own: the queue and the keys
   * named after it ({@code images:processing:…}, {@code images:deliveries}), the results stream,
   * the dead letters, and the result keys.
   */
  private static String replyPrefix(Settings s) {
    String prefix = s.get(RedisSettings.REPLY_PREFIX);
    String results = s.get(RedisSettings.RESULT_PREFIX);
    if (!results.isEmpty() && (results.startsWith(prefix) || prefix.startsWith(results))) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "reply-prefix '%s' and result-prefix '%s' overlap: a request's id could name a reply list"
              .formatted(prefix, results));
    }
    for (var key :
        java.util.List.of(RedisSettings.IMAGES, RedisSettings.RESULTS, RedisSettings.DEAD_LETTER)) {
      String own = s.get(key);
      if (own.startsWith(prefix) || prefix.startsWith(own)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "reply-prefix '%s' would let requests name the %s key '%s' or keys named after it: give reply-prefix a namespace of its own"
                .formatted(prefix, key.name(), own));
      }
      if (!results.isEmpty() && own.startsWith(results)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "result-prefix '%s' covers the %s key '%s': a request's id could name it"
                .formatted(results, key.name(), own));
      }
    }
    return prefix;
  }

  /**
   * Whether a result may be stored at {@code key} ({@code result-prefix + id}, the id being the
   * producer's): not in the reply namespace, and none of the worker's own keys (the queue, the keys
   * named after it, the results stream, the dead letters). With an empty {@code result-prefix}
   * (seed 003's contract) the id alone is the key, so this is what keeps a producer from naming
   * them.
   */
  public boolean resultKeyAllowed(String key) {
    return !key.isEmpty()
        && !key.startsWith(replyPrefix)
        && !key.equals(images)
        && !key.startsWith(images + ":")
        && !key.equals(results)
        && !key.equals(deadLetter);
  }

  /**
   * Whether a request's {@code reply_to} lies in this address's reply namespace: under {@link
   * #replyPrefix()}, with a name of its own after it.
   */
  public boolean replyAllowed(String replyTo) {
    return replyTo.length() > replyPrefix.length() && replyTo.startsWith(replyPrefix);
  }

  /** How requests travel. */
  public enum Mode {
    /** A Redis list: reliable, each request to one worker. */
    LIST,
    /** Pub/Sub: every subscribed worker gets every request; at most once. */
    PUBSUB,
    /** A stream with a consumer group: reliable, each request to one worker, replayable. */
    STREAM
  }

  /** What Redis URIs look like. */
  static final BrokerUri.Kind KIND =
      new BrokerUri.Kind(
          "Redis",
          List.of("redis", "rediss"),
          "redis://host:port[/db]?mode=list|pubsub|stream",
          RedisSettings.ALL);

  /** Whether a URI names Redis. */
  public static boolean handles(String uri) {
    return KIND.handles(uri);
  }

  public static RedisConfig parse(String text) {
    return parse(text, Map.of());
  }

  /**
   * Reads a Redis URI; {@code overrides} win over its query.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  public static RedisConfig parse(String text, Map<String, String> overrides) {
    return parse(text, overrides, System.getenv());
  }

  /** The same, a password the URI leaves out coming from {@code environment} when set there. */
  static RedisConfig parse(
      String text, Map<String, String> overrides, Map<String, String> environment) {
    String profile =
        overrides.getOrDefault("profile", Arguments.query(text).params().get("profile"));
    BrokerUri given =
        BrokerUri.parse(
            text,
            KIND,
            profile == null ? Map.of() : RedisSettings.PROFILES.getOrDefault(profile, Map.of()),
            overrides);
    Settings s = given.settings();
    RedisURI uri;
    try {
      uri = RedisURI.create(given.base());
    } catch (IllegalArgumentException e) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "not a Redis URI: "
              + given
              + ": "
              + e.getMessage().replace(given.base(), given.toString()));
    }
    uri.setTimeout(Duration.ofSeconds(10));
    RedisPassword.apply(uri, given.base(), s.get(RedisSettings.PASSWORD_FILE), environment);
    return new RedisConfig(
        uri,
        Mode.valueOf(s.get(RedisSettings.MODE).toUpperCase(Locale.ROOT)),
        s.get(RedisSettings.IMAGES),
        s.get(RedisSettings.RESULTS),
        s.get(RedisSettings.RESULT_PREFIX),
        replyPrefix(s),
        s.get(RedisSettings.TTL),
        s.get(RedisSettings.GROUP),
        s.get(RedisSettings.DEAD_LETTER),
        s.get(RedisSettings.MAX_LENGTH),
        s.get(RedisSettings.CLAIM_IDLE),
        s.get(RedisSettings.MAX_DELIVERIES),
        s.get(RedisSettings.HEARTBEAT),
        s.get(RedisSettings.RESULT_FORMAT).equals("seed003"),
        PreprocessSettings.tensorLayout(s.get(RedisSettings.TENSOR_LAYOUT)),
        s.get(RedisSettings.CA),
        exactlyOnce(s));
  }

  /** Whether the address asks for delivery exactly once, which Pub/Sub cannot give. */
  private static boolean exactlyOnce(Settings s) {
    boolean asked = s.get(RedisSettings.DELIVERY).equals("exactly-once");
    if (asked && s.get(RedisSettings.MODE).equals("pubsub")) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "Redis Pub/Sub delivers at most once (a message published while no worker listens is"
              + " gone): for delivery=exactly-once use mode=stream or mode=list");
    }
    return asked;
  }

  /**
   * Client options holding this address's TLS trust (with {@code rediss://}, the {@code ca} file
   * when one is given), for callers to add to.
   */
  public ClientOptions.Builder clientOptions() {
    ClientOptions.Builder b = ClientOptions.builder();
    if (ca != null) {
      if (!Files.isReadable(ca)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "the Redis URI's ca file cannot be read: " + ca);
      }
      b.sslOptions(SslOptions.builder().jdkSslProvider().trustManager(ca.toFile()).build());
    }
    return b;
  }

  /**
   * The request as the worker should read it: one whose bytes are not an image and that has no
   * content type is declared a tensor in {@link #tensorLayout()}, when that is set.
   */
  public ImageRequest typed(ImageRequest r) {
    if (tensorLayout == null
        || r.contentType() != null
        || !r.hasBytes()
        || ImageFormat.looksLikeImage(r.bytes())) {
      return r;
    }
    return new ImageRequest(
        r.id(),
        r.source(),
        r.bytes(),
        TensorReader.CONTENT_TYPE + "; layout=" + tensorLayout.name().toLowerCase(Locale.ROOT),
        r.replyTo(),
        r.enqueuedNanos());
  }

  /** The URI without its password, for logs. */
  public String describe() {
    return "%s://%s:%d/%d %s %s"
        .formatted(
            uri.isSsl() ? "rediss" : "redis",
            uri.getHost(),
            uri.getPort(),
            uri.getDatabase(),
            mode.name().toLowerCase(Locale.ROOT),
            images);
  }
}
