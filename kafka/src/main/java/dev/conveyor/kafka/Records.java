package dev.conveyor.kafka;

import dev.conveyor.core.ImageRequest;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The record format of requests: key = id, value = the encoded image (or tensor), headers {@code
 * content-type}, optional {@code reply-to}, {@code source} (a name for people: the file it came
 * from; without it, the record's topic, partition and offset) and {@code model} (the name of the
 * model it asks for, in a model repository; without it, the default one). With a {@code
 * content-ref} header whose value is {@code 1} the value is instead a reference to the image
 * ({@code s3://bucket/key}, or a file path the worker can read), fetched by the worker; any other
 * value of the header means the same, as it always has, except {@code 0}, {@code false} and {@code
 * no}, which are refused rather than guessed at. Conveyor adds {@code conveyor-attempt} when it
 * sends a record again after a failure. A topic read with {@code requests=keys} ({@link
 * RequestFormat}) also takes bare object keys. docs/REQUESTS.md describes every form.
 */
public final class Records {
  static final String CONTENT_TYPE = "content-type";
  static final String REPLY_TO = "reply-to";
  static final String CONTENT_REF = "content-ref";
  static final String SOURCE = "source";
  static final String MODEL = "model";
  static final String ATTEMPT = "conveyor-attempt";
  static final String ERROR = "conveyor-error";

  /** The value of the {@code content-ref} header that Conveyor sends and documents. */
  static final String REFERENCE = "1";

  /** Values of {@code content-ref} that read as "not a reference", and are refused as unclear. */
  private static final java.util.Set<String> NOT_A_REFERENCE = java.util.Set.of("0", "false", "no");

  private Records() {}

  static ProducerRecord<String, byte[]> toRecord(String topic, ImageRequest r) {
    if (!r.hasBytes()) {
      // a reference (s3://bucket/key) for the worker to fetch
      ProducerRecord<String, byte[]> ref = new ProducerRecord<>(topic, r.id(), utf8(r.source()));
      ref.headers().add(CONTENT_REF, utf8(REFERENCE));
      if (r.contentType() != null) {
        ref.headers().add(CONTENT_TYPE, utf8(r.contentType()));
      }
      if (r.replyTo() != null) {
        ref.headers().add(REPLY_TO, utf8(r.replyTo()));
      }
      if (r.model() != null) {
        ref.headers().add(MODEL, utf8(r.model()));
      }
      return ref;
    }
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, r.id(), r.bytes());
    if (r.contentType() != null) {
      record.headers().add(CONTENT_TYPE, utf8(r.contentType()));
    }
    if (r.replyTo() != null) {
      record.headers().add(REPLY_TO, utf8(r.replyTo()));
    }
    if (r.model() != null) {
      record.headers().add(MODEL, utf8(r.model()));
    }
    // always, even when it is the id: it marks the value as an image, also on a topic read with
    // requests=keys, whose records without content-ref, content-type or source are bare keys
    record.headers().add(SOURCE, utf8(r.source()));
    return record;
  }

  /**
   * The request a record in Conveyor's format carries: {@link #fromRecord(ConsumerRecord,
   * RequestFormat)}.
   */
  static ImageRequest fromRecord(ConsumerRecord<String, byte[]> record) {
    return fromRecord(record, RequestFormat.CONVEYOR);
  }

  /**
   * The request a record carries, read as {@code format} says; a record without a key gets a fresh
   * id. A record that is not a request (no value, a bare key that is not a plain key) gets a
   * request answered with a {@code BAD_REQUEST} result. Never throws.
   */
  static ImageRequest fromRecord(ConsumerRecord<String, byte[]> record, RequestFormat format) {
    return read(
        format,
        record.topic(),
        record.partition(),
        record.offset(),
        record.key(),
        record.value(),
        record.headers(),
        null);
  }

  /** The request a record read with byte-array keys carries, as {@link #fromRecord} reads it. */
  public static ImageRequest fromBytesRecord(ConsumerRecord<byte[], byte[]> r) {
    return fromBytesRecord(r, RequestFormat.CONVEYOR);
  }

  /** The same, read as {@code format} says. */
  public static ImageRequest fromBytesRecord(
      ConsumerRecord<byte[], byte[]> r, RequestFormat format) {
    return read(
        format,
        r.topic(),
        r.partition(),
        r.offset(),
        r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8),
        r.value(),
        r.headers(),
        null);
  }

  /**
   * The request a record carries, from its parts: for readers that do not hold a {@link
   * ConsumerRecord} (Spark's Kafka source).
   *
   * @param keylessId the id of a request in Conveyor's format whose record has no key; {@code
   *     null}: a fresh random one
   */
  public static ImageRequest read(
      RequestFormat format,
      String topic,
      int partition,
      long offset,
      String key,
      byte[] value,
      Headers headers,
      String keylessId) {
    String at = topic + "/" + partition + "@" + offset;
    String contentType = header(headers, CONTENT_TYPE);
    String replyTo = header(headers, REPLY_TO);
    String ref = header(headers, CONTENT_REF);
    String source = header(headers, SOURCE);
    boolean keyed = key != null && !key.isBlank();
    if (format.keys() && ref == null && contentType == null && source == null) {
      return bareKey(format, at, value, replyTo).withModel(header(headers, MODEL));
    }
    if (value == null) {
      return ImageRequest.unreadable(
          keyed ? key : at,
          at,
          "the record has no value: send the image, or its key with the content-ref header");
    }
    String id = keyed ? key : keylessId != null ? keylessId : ImageRequest.newId();
    if (ref != null) {
      if (NOT_A_REFERENCE.contains(ref.trim().toLowerCase(java.util.Locale.ROOT))) {
        return ImageRequest.unreadable(
            id,
            at,
            "the content-ref header is '%s': send it as 1 when the value is a reference, and leave it out when the value is the image"
                .formatted(ref.trim().toLowerCase(java.util.Locale.ROOT)));
      }
      String[] why = new String[1];
      String path = RequestFormat.text(value, RequestFormat.MAX_REF_BYTES, why);
      if (path == null) {
        return ImageRequest.unreadable(
            id, at, "the value of a content-ref record is not a reference: " + why[0]);
      }
      return new ImageRequest(id, path, null, contentType, replyTo, System.nanoTime())
          .withModel(header(headers, MODEL));
    }
    if (source == null || source.isBlank()) {
      source = at;
    }
    return new ImageRequest(id, source, value, contentType, replyTo, System.nanoTime())
        .withModel(header(headers, MODEL));
  }

  /**
   * A bare object key's request: id = the key, reference = the format's prefix + the key. A value
   * that is not a plain key is answered {@code BAD_REQUEST} under the record's place as its id,
   * never its bytes.
   */
  private static ImageRequest bareKey(
      RequestFormat format, String at, byte[] value, String replyTo) {
    if (value == null) {
      return ImageRequest.unreadable(
          at, at, "the record has no value: with requests=keys a record's value is an object key");
    }
    String[] why = new String[1];
    String key = RequestFormat.text(value, RequestFormat.MAX_KEY_BYTES, why);
    String problem = key == null ? why[0] : format.keyProblem(key);
    if (problem != null) {
      return ImageRequest.unreadable(
          at, at, "the record's value is not an object key (requests=keys): " + problem);
    }
    return new ImageRequest(key, format.keyPrefix() + key, null, null, replyTo, System.nanoTime());
  }

  static int attempt(ConsumerRecord<String, byte[]> record) {
    String a = header(record.headers(), ATTEMPT);
    try {
      return a == null ? 1 : Integer.parseInt(a);
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  static String header(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A record to send again: the original's key, value and headers, to {@code topic}, with the next
   * attempt's count and, when given, the error that ended its deliveries.
   */
  static ProducerRecord<String, byte[]> again(
      ConsumerRecord<String, byte[]> original, String topic, int attempt, String error) {
    ProducerRecord<String, byte[]> again =
        new ProducerRecord<>(topic, original.key(), original.value());
    original
        .headers()
        .forEach(
            h -> {
              if (!h.key().equals(ATTEMPT)) {
                again.headers().add(h);
              }
            });
    again.headers().add(ATTEMPT, utf8(Integer.toString(attempt + 1)));
    if (error != null) {
      again.headers().add(ERROR, utf8(error));
    }
    return again;
  }

  /** A released request's next attempt, or its dead letter once it has failed too often. */
  @SuppressWarnings("unchecked") // a delivery's receipt is the record it came as
  static ProducerRecord<String, byte[]> again(
      dev.conveyor.core.transport.Delivery d, KafkaConfig address, String reason) {
    boolean dead = d.attempt() >= address.maxDeliveries();
    return again(
        (ConsumerRecord<String, byte[]>) d.receipt(),
        dead ? address.deadLetter() : address.topic(),
        d.attempt(),
        dead ? "gave up after %d deliveries: %s".formatted(d.attempt(), reason) : null);
  }
}
