package dev.conveyor.kafka;

import dev.conveyor.core.ImageRequest;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The record format of requests: key = id, value = the encoded image (or tensor), headers {@code
 * content-type}, optional {@code reply-to} and {@code source} (a name for people: the file it came
 * from; without it, the record's topic, partition and offset). With a {@code content-ref} header
 * the value is instead a reference to the image ({@code s3://bucket/key}, or a file path the worker
 * can read), fetched by the worker. Conveyor adds {@code conveyor-attempt} when it sends a record
 * again after a failure.
 */
public final class Records {
  static final String CONTENT_TYPE = "content-type";
  static final String REPLY_TO = "reply-to";
  static final String CONTENT_REF = "content-ref";
  static final String SOURCE = "source";
  static final String ATTEMPT = "conveyor-attempt";
  static final String ERROR = "conveyor-error";

  private Records() {}

  static ProducerRecord<String, byte[]> toRecord(String topic, ImageRequest r) {
    if (!r.hasBytes()) {
      // a reference (s3://bucket/key) for the worker to fetch
      ProducerRecord<String, byte[]> ref = new ProducerRecord<>(topic, r.id(), utf8(r.source()));
      ref.headers().add(CONTENT_REF, utf8("1"));
      if (r.contentType() != null) {
        ref.headers().add(CONTENT_TYPE, utf8(r.contentType()));
      }
      if (r.replyTo() != null) {
        ref.headers().add(REPLY_TO, utf8(r.replyTo()));
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
    if (!r.source().equals(r.id())) {
      record.headers().add(SOURCE, utf8(r.source()));
    }
    return record;
  }

  /**
   * The request a record carries; a record without a key gets a fresh id, and one without a value
   * (a tombstone) an error result.
   */
  static ImageRequest fromRecord(ConsumerRecord<String, byte[]> record) {
    String id =
        record.key() != null && !record.key().isBlank() ? record.key() : ImageRequest.newId();
    String contentType = header(record.headers(), CONTENT_TYPE);
    String replyTo = header(record.headers(), REPLY_TO);
    if (record.value() == null) {
      return ImageRequest.unreadable(
          id,
          record.topic() + "/" + record.partition() + "@" + record.offset(),
          "the record has no value: send the image, or its key with the content-ref header");
    }
    if (header(record.headers(), CONTENT_REF) != null) {
      String path = new String(record.value(), StandardCharsets.UTF_8);
      return new ImageRequest(id, path, null, contentType, replyTo, System.nanoTime());
    }
    String source = header(record.headers(), SOURCE);
    if (source == null || source.isBlank()) {
      source = record.topic() + "/" + record.partition() + "@" + record.offset();
    }
    return new ImageRequest(id, source, record.value(), contentType, replyTo, System.nanoTime());
  }

  /** The request a record read with byte-array keys carries, as {@link #fromRecord} reads it. */
  public static ImageRequest fromBytesRecord(ConsumerRecord<byte[], byte[]> r) {
    return fromRecord(
        new ConsumerRecord<>(
            r.topic(),
            r.partition(),
            r.offset(),
            r.timestamp(),
            r.timestampType(),
            r.serializedKeySize(),
            r.serializedValueSize(),
            r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8),
            r.value(),
            r.headers(),
            r.leaderEpoch()));
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
}
