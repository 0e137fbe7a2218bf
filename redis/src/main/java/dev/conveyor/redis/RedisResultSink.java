package dev.conveyor.redis;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.transport.ResultSink;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores results in Redis, one script per result, pipelined: each at its result key ({@code
 * result-prefix + id}, with the TTL; in seed 003's shape with {@code result-format=seed003}),
 * pushed on the request's {@code reply_to} list when it has one (so a caller can block on it with
 * {@code BLPOP}), and added to the results stream (list and stream modes, bounded by {@code
 * max-length}) or published on the results channel (Pub/Sub mode).
 *
 * <p>A request names its id and its reply list, so neither is trusted: a {@code reply_to} outside
 * {@code reply-prefix}, or one that names a key holding anything but a list, gets the request a
 * {@code BAD_REQUEST} result and touches no key of its own; a result key that holds anything but a
 * string (or lies in the reply namespace) is left alone, the result still going to the results
 * stream. The type checks and the writes run in one script, so no other client can slip between
 * them, and a bad request never fails the other requests of its batch.
 */
public final class RedisResultSink implements ResultSink {
  private static final Logger LOG = LoggerFactory.getLogger(RedisResultSink.class);

  /**
   * KEYS: the results stream (or any key of the worker's, in Pub/Sub mode), then those of the
   * result key, the reply list, and for delivery exactly once the requests' stream (or the worker's
   * processing list) and the deliveries hash, that there are: only keys that exist for this result
   * are passed, so that an ACL user limited to Conveyor's keys may run it. ARGV: mode, TTL, max
   * length, id, the result's JSON, what the result key holds, the error's JSON and what the result
   * key holds for it (for a reply list of the wrong type), the channel, how the request is
   * acknowledged ('', 'xack' or 'lrem') with the group and entry id (or the request's id and its
   * message), or 'once' (a results sink with delivery exactly once: a result whose result key
   * exists was stored already), then the places in KEYS of the result key, the reply list, the
   * acknowledged key and the deliveries hash (0: none). Returns 0, or 1 when the result key was
   * left alone, or 2 when the reply list had the wrong type and the error was stored instead, or 3
   * when the request was acknowledged already and nothing was stored.
   */
  static final String DELIVER =
      """
      local resultKey, reply = tonumber(ARGV[13]), tonumber(ARGV[14])
      local acked, attempts = tonumber(ARGV[15]), tonumber(ARGV[16])
      if ARGV[10] == 'xack' then
        if redis.call('XACK', KEYS[acked], ARGV[11], ARGV[12]) == 0 then
          return 3
        end
      elseif ARGV[10] == 'once' then
        if resultKey > 0 and redis.call('EXISTS', KEYS[resultKey]) == 1 then
          return 3
        end
      elseif ARGV[10] == 'lrem' then
        if redis.call('LREM', KEYS[acked], 1, ARGV[12]) == 0 then
          return 3
        end
        redis.call('HDEL', KEYS[attempts], ARGV[11])
      end
      local value, keyValue, status = ARGV[5], ARGV[6], 0
      if reply > 0 then
        local t = redis.call('TYPE', KEYS[reply]).ok
        if t ~= 'none' and t ~= 'list' then
          value, keyValue, status = ARGV[7], ARGV[8], 2
        end
      end
      local keyFree = false
      if resultKey > 0 then
        local t = redis.call('TYPE', KEYS[resultKey]).ok
        keyFree = t == 'none' or t == 'string'
        if not keyFree and status == 0 then
          status = 1
        end
      end
      if ARGV[1] == 'pubsub' then
        redis.call('PUBLISH', ARGV[9], value)
      else
        redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[4], 'result', value)
      end
      if keyFree then
        redis.call('SET', KEYS[resultKey], keyValue, 'EX', ARGV[2])
      end
      if reply > 0 and status ~= 2 then
        redis.call('RPUSH', KEYS[reply], value)
        redis.call('EXPIRE', KEYS[reply], ARGV[2])
      end
      return status
      """;

  /** An empty key or argument: no result key, or no error value when there is no reply list. */
  private static final byte[] NO_KEY = new byte[0];

  private final RedisConfig address;
  private final RedisConnections redis;

  public RedisResultSink(RedisConfig address) {
    this.address = address;
    this.redis = new RedisConnections(address);
  }

  /**
   * Stores results; with {@code delivery=exactly-once} on the address, idempotently by request id:
   * a result whose result key exists (a replay after a failure: an engine's task read its requests
   * again) is not stored again, nor added to the results stream again.
   */
  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results) throws Exception {
    deliver(requests, results, address.exactlyOnce() ? ONCE : null);
  }

  /** A result stored only when its result key does not exist yet. */
  private static final Acks ONCE = new Acks("once", null, null, List.of(), List.of());

  /**
   * How a script acknowledges its result's request, for delivery exactly once: {@code kind} is
   * {@code xack} (the requests' stream and the group, then each entry's id) or {@code lrem} (the
   * worker's processing list and the deliveries hash, then each request's id and message).
   */
  record Acks(
      String kind, byte[] key, byte[] key2OrGroup, List<byte[]> first, List<byte[]> second) {}

  /**
   * Stores results, each with its request's acknowledgement in the same script when {@code acks} is
   * given.
   *
   * @return for each result, whether it was stored: false for a request acknowledged already
   */
  boolean[] deliver(List<ImageRequest> requests, List<ClassifyResult> results, Acks acks)
      throws Exception {
    RedisAsyncCommands<byte[], byte[]> async = redis.connection().async();
    byte[] ttl = RequestCodec.bytes(Long.toString(address.resultTtl().toSeconds()));
    byte[] maxLength = RequestCodec.bytes(Long.toString(address.maxLength()));
    byte[] mode =
        RequestCodec.bytes(address.mode() == RedisConfig.Mode.PUBSUB ? "pubsub" : "stream");
    byte[] stream = RequestCodec.bytes(address.results());
    List<RedisFuture<Long>> pending = new ArrayList<>(results.size());
    for (int i = 0; i < results.size(); i++) {
      ImageRequest request = requests.get(i);
      ClassifyResult result = results.get(i);
      String replyTo = request.replyTo();
      boolean replies = replyTo != null && !replyTo.isBlank();
      if (replies && !address.replyAllowed(replyTo)) {
        result = refused(request, result, "outside this worker's reply namespace (reply-prefix)");
        replies = false;
      }
      byte[] json = RequestCodec.bytes(Json.write(result));
      // the error stored instead when the reply list turns out not to be a list
      byte[] errorJson = NO_KEY;
      byte[] errorKeyValue = NO_KEY;
      if (replies) {
        ClassifyResult wrongType = refused(request, result, "not a list");
        errorJson = RequestCodec.bytes(Json.write(wrongType));
        errorKeyValue = keyValue(wrongType, errorJson);
      }
      String resultKey = address.resultPrefix() + result.id();
      boolean xack = acks != null && acks.kind().equals("xack");
      boolean once = acks == ONCE;
      List<byte[]> keys = new ArrayList<>(5);
      keys.add(stream);
      byte[] resultAt = key(resultKey);
      int resultIndex = resultAt.length == 0 ? 0 : place(keys, resultAt);
      int replyIndex = replies ? place(keys, RequestCodec.bytes(replyTo)) : 0;
      int ackIndex = acks == null || once ? 0 : place(keys, acks.key());
      int attemptsIndex = acks == null || xack || once ? 0 : place(keys, acks.key2OrGroup());
      pending.add(
          async.eval(
              DELIVER,
              ScriptOutputType.INTEGER,
              keys.toArray(byte[][]::new),
              mode,
              ttl,
              maxLength,
              RequestCodec.bytes(result.id()),
              json,
              keyValue(result, json),
              errorJson,
              errorKeyValue,
              stream,
              acks == null ? NO_KEY : RequestCodec.bytes(acks.kind()),
              acks == null || once ? NO_KEY : xack ? acks.key2OrGroup() : acks.first().get(i),
              acks == null || once ? NO_KEY : xack ? acks.first().get(i) : acks.second().get(i),
              index(resultIndex),
              index(replyIndex),
              index(ackIndex),
              index(attemptsIndex)));
    }
    boolean done;
    try {
      done =
          LettuceFutures.awaitAll(
              address.uri().getTimeout().toMillis(),
              TimeUnit.MILLISECONDS,
              pending.toArray(RedisFuture[]::new));
    } catch (RuntimeException refused) {
      throw new ConveyorException(
          ErrorCode.INTERNAL, "Redis refused a result: " + refused.getMessage(), refused);
    }
    if (!done) {
      throw new ConveyorException(ErrorCode.TIMEOUT, "Redis did not store the results in time");
    }
    boolean[] stored = new boolean[pending.size()];
    int again = 0;
    for (int i = 0; i < pending.size(); i++) {
      long status = pending.get(i).get();
      stored[i] = status != 3;
      again += status == 3 ? 1 : 0;
      if (status == 1) {
        LOG.warn(
            "request {} of the batch: its result key holds another type of value, or is one of"
                + " the worker's own; the result went to {} only",
            i,
            address.results());
      } else if (status == 2) {
        LOG.warn("request {} of the batch: its reply_to is not a list; answered BAD_REQUEST", i);
      }
    }
    if (again > 0) {
      LOG.info(
          "{} of {} results were stored already (their requests were answered before): not"
              + " stored again",
          again,
          pending.size());
    }
    return stored;
  }

  /** Adds {@code key} to the script's keys; its place there, from 1 as Lua counts. */
  private static int place(List<byte[]> keys, byte[] key) {
    keys.add(key);
    return keys.size();
  }

  private static byte[] index(int place) {
    return RequestCodec.bytes(Integer.toString(place));
  }

  /** The result key, or none when it would name a reply list or one of the worker's own keys. */
  private byte[] key(String resultKey) {
    return address.resultKeyAllowed(resultKey) ? RequestCodec.bytes(resultKey) : NO_KEY;
  }

  /** What the result key holds: the result's JSON, or seed 003's shape of it. */
  private byte[] keyValue(ClassifyResult result, byte[] json) {
    return address.seed003Results() ? seed003(result) : json;
  }

  /** The error result of a request whose reply address is refused. */
  private static ClassifyResult refused(ImageRequest request, ClassifyResult made, String why) {
    return ClassifyResult.error(
        request,
        ErrorCode.BAD_REQUEST,
        "the request's reply_to is " + why,
        made.host(),
        made.latencyMs() == null ? 0 : made.latencyMs());
  }

  /**
   * A result as seed 003's consumer stored it: a JSON list of {@code {"label", "probability"}},
   * best first; an error, which the seed had no shape for, as {@code {"error": CODE, "message":
   * …}}.
   */
  static byte[] seed003(ClassifyResult r) {
    ObjectNode error = Json.mapper().createObjectNode();
    if (!r.isOk()) {
      error.put("error", r.error().code().name()).put("message", r.error().message());
      return RequestCodec.bytes(error.toString());
    }
    ArrayNode list = Json.mapper().createArrayNode();
    for (Prediction p : r.predictions()) {
      list.addObject().put("label", p.label()).put("probability", p.score());
    }
    return RequestCodec.bytes(list.toString());
  }

  @Override
  public void close() {
    redis.close();
  }
}
