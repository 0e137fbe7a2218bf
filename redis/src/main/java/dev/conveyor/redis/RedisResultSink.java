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
import io.lettuce.core.SetArgs;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Stores results in Redis, pipelined: each at its result key ({@code result-prefix + id}, with the
 * TTL; in seed 003's shape with {@code result-format=seed003}), pushed on the request's {@code
 * reply_to} list when it has one (so a caller can block on it with {@code BLPOP}), and added to the
 * results stream (list and stream modes, bounded by {@code max-length}) or published on the results
 * channel (Pub/Sub mode).
 */
public final class RedisResultSink implements ResultSink {
  private final RedisAddress address;
  private final RedisConnections redis;

  public RedisResultSink(RedisAddress address) {
    this.address = address;
    this.redis = new RedisConnections(address);
  }

  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results) throws Exception {
    RedisAsyncCommands<byte[], byte[]> async = redis.connection().async();
    long ttl = address.resultTtl().toSeconds();
    byte[] stream = RequestCodec.bytes(address.results());
    List<RedisFuture<?>> pending = new ArrayList<>(results.size() * 3);
    for (int i = 0; i < results.size(); i++) {
      ClassifyResult result = results.get(i);
      byte[] json = RequestCodec.bytes(Json.write(result));
      pending.add(
          async.set(
              RequestCodec.bytes(address.resultPrefix() + result.id()),
              address.seed003Results() ? seed003(result) : json,
              SetArgs.Builder.ex(ttl)));
      String replyTo = requests.get(i).replyTo();
      if (replyTo != null && !replyTo.isBlank()) {
        pending.add(async.rpush(RequestCodec.bytes(replyTo), json));
        pending.add(async.expire(RequestCodec.bytes(replyTo), ttl));
      }
      if (address.mode() == RedisAddress.Mode.PUBSUB) {
        pending.add(async.publish(stream, json));
      } else {
        pending.add(
            async.xadd(
                stream,
                XAddArgs.Builder.maxlen(address.maxLength()).approximateTrimming(),
                Map.of(
                    RequestCodec.bytes("id"),
                    RequestCodec.bytes(result.id()),
                    RequestCodec.bytes("result"),
                    json)));
      }
    }
    if (!LettuceFutures.awaitAll(
        address.uri().getTimeout().toMillis(),
        TimeUnit.MILLISECONDS,
        pending.toArray(RedisFuture[]::new))) {
      throw new ConveyorException(ErrorCode.TIMEOUT, "Redis did not store the results in time");
    }
    for (RedisFuture<?> f : pending) {
      try {
        f.get();
      } catch (ExecutionException e) {
        throw new ConveyorException(
            ErrorCode.INTERNAL,
            "Redis refused a result: " + e.getCause().getMessage(),
            e.getCause());
      }
    }
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
