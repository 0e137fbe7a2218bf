package dev.conveyor.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Decoding records as requests, in both formats, and the partitions check's report. */
@Timeout(10)
class RecordsTest {
  private static final RequestFormat KEYS = new RequestFormat(true, "s3://images/day1/");

  private static ConsumerRecord<String, byte[]> record(
      String key, byte[] value, String... headerPairs) {
    RecordHeaders headers = new RecordHeaders();
    for (int i = 0; i < headerPairs.length; i += 2) {
      headers.add(headerPairs[i], headerPairs[i + 1].getBytes(StandardCharsets.UTF_8));
    }
    return TestRecords.consumed("img_loc", 2, 41, key, value, headers);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String reason(ImageRequest r) {
    assertThat(r.contentType()).isEqualTo(ImageRequest.UNREADABLE);
    return new String(r.bytes(), StandardCharsets.UTF_8);
  }

  @Test
  void aBareKeyIsAReferenceRequestWhoseIdIsTheKey() {
    ImageRequest r = Records.fromRecord(record(null, utf8("n01440764/n01440764_10026.JPEG")), KEYS);
    assertThat(r.id()).isEqualTo("n01440764/n01440764_10026.JPEG");
    assertThat(r.source()).isEqualTo("s3://images/day1/n01440764/n01440764_10026.JPEG");
    assertThat(r.hasBytes()).isFalse();
    assertThat(r.contentType()).isNull();
    // a record key (a producer's partitioning key) does not become the id; the attempt header of
    // a retry keeps it a bare key; a reply-to is kept
    ImageRequest keyed =
        Records.fromRecord(
            record(
                "camera-1",
                utf8("a b/ü.jpg"),
                Records.ATTEMPT,
                "2",
                Records.REPLY_TO,
                "conveyor.reply.x"),
            KEYS);
    assertThat(keyed.id()).isEqualTo("a b/ü.jpg");
    assertThat(keyed.source()).isEqualTo("s3://images/day1/a b/ü.jpg");
    assertThat(keyed.replyTo()).isEqualTo("conveyor.reply.x");
    // without key-prefix the value is the reference itself
    assertThat(
            Records.fromRecord(record(null, utf8("s3://b/k.jpg")), new RequestFormat(true, ""))
                .source())
        .isEqualTo("s3://b/k.jpg");
  }

  @Test
  void hostileBareKeysAreRefusedUnderTheRecordsPlaceNeverEchoed() {
    Map<String, byte[]> hostile =
        Map.of(
            "not UTF-8", new byte[] {(byte) 0xC3, (byte) 0x28, 'x'},
            "empty", new byte[0],
            "too long", utf8("k".repeat(RequestFormat.MAX_KEY_BYTES + 1)),
            "a newline", utf8("ok.jpg\nforged log line"),
            "a NUL", utf8("ok\u0000.jpg"),
            "a bidi override", utf8("gpj.\u202Eexe"),
            "a '..' segment", utf8("../other/secret.jpg"),
            "a leading '/'", utf8("/etc/passwd"),
            "a '.' segment", utf8("a/./b.jpg"));
    hostile.forEach(
        (what, value) -> {
          ImageRequest r = Records.fromRecord(record(null, value), KEYS);
          assertThat(r.id()).as(what).isEqualTo("img_loc/2@41");
          assertThat(r.source()).as(what).isEqualTo("img_loc/2@41");
          String reason = reason(r);
          assertThat(reason).as(what).contains("requests=keys");
          if (value.length > 3) {
            assertThat(reason).as(what).doesNotContain(new String(value, StandardCharsets.UTF_8));
          }
        });
    assertThat(reason(Records.fromRecord(record(null, null), KEYS))).contains("no value");
    // '..' inside a name is not a segment
    assertThat(Records.fromRecord(record(null, utf8("a..b/c.jpg")), KEYS).id())
        .isEqualTo("a..b/c.jpg");
  }

  @Test
  void theModelARequestNamesTravelsInAHeaderAndNoneMeansTheDefault() {
    for (ImageRequest sent :
        List.of(
            ImageRequest.ofBytes("photo.png", utf8("PNG…"), null).withModel("fashion"),
            ImageRequest.ofKey("s3://images/day1/a.jpg").withModel("fashion"))) {
      ProducerRecord<String, byte[]> p = Records.toRecord("img_loc", sent);
      ConsumerRecord<String, byte[]> c = record(p.key(), p.value());
      p.headers().forEach(h -> c.headers().add(h));
      assertThat(Records.fromRecord(c).model()).isEqualTo("fashion");
    }
    ConsumerRecord<String, byte[]> bare = record(null, utf8("day1/a.jpg"));
    bare.headers().add(Records.MODEL, utf8("resnet"));
    assertThat(Records.fromRecord(bare, KEYS).model())
        .as("a bare key's record names its model too")
        .isEqualTo("resnet");
    ProducerRecord<String, byte[]> plain =
        Records.toRecord("img_loc", ImageRequest.ofBytes("photo.png", utf8("PNG…"), null));
    assertThat(plain.headers().lastHeader(Records.MODEL)).isNull();
  }

  @Test
  void onAKeysTopicConveyorsOwnRecordsAreStillReadAsTheyAre() {
    ImageRequest image = ImageRequest.ofBytes("photo.png", utf8("PNG…"), null);
    ImageRequest ref = ImageRequest.ofKey("s3://images/day1/a.jpg");
    for (ImageRequest sent : List.of(image, ref)) {
      ProducerRecord<String, byte[]> p = Records.toRecord("img_loc", sent);
      ConsumerRecord<String, byte[]> c = record(p.key(), p.value());
      p.headers().forEach(h -> c.headers().add(h));
      ImageRequest got = Records.fromRecord(c, KEYS);
      assertThat(got.id()).isEqualTo(sent.id());
      assertThat(got.source()).isEqualTo(sent.source());
      assertThat(got.hasBytes()).isEqualTo(sent.hasBytes());
    }
    // a record with a content-type header is an image, whatever the format
    ImageRequest typed =
        Records.fromRecord(record("k", utf8("x.jpg"), Records.CONTENT_TYPE, "image/png"), KEYS);
    assertThat(typed.id()).isEqualTo("k");
    assertThat(typed.hasBytes()).isTrue();
  }

  @Test
  void theDefaultFormatReadsABareValueAsImageBytes() {
    ImageRequest r = Records.fromRecord(record(null, utf8("n01440764_10026.JPEG")));
    assertThat(r.hasBytes()).isTrue();
    assertThat(r.id()).isNotEqualTo("n01440764_10026.JPEG");
  }

  @Test
  void contentRefTakesOneAndStillEveryValueItTookExceptTheNegativeOnes() {
    for (String value : List.of("1", "file", "true", "s3", "")) {
      ImageRequest r =
          Records.fromRecord(record("id-1", utf8("/srv/a.jpg"), Records.CONTENT_REF, value));
      assertThat(r.hasBytes()).as(value).isFalse();
      assertThat(r.source()).as(value).isEqualTo("/srv/a.jpg");
    }
    for (String value : List.of("0", "false", "NO")) {
      ImageRequest r =
          Records.fromRecord(record("id-1", utf8("/srv/a.jpg"), Records.CONTENT_REF, value));
      assertThat(r.id()).isEqualTo("id-1");
      assertThat(reason(r)).as(value).contains("content-ref");
    }
    ImageRequest control =
        Records.fromRecord(record("id-2", utf8("/srv/a\r\n.jpg"), Records.CONTENT_REF, "1"));
    assertThat(reason(control)).contains("control character");
    assertThat(
            Records.header(
                Records.toRecord("t", ImageRequest.ofKey("/a")).headers(), "content-ref"))
        .isEqualTo("1");
  }

  @Test
  void theKafkaUriSaysHowRecordsAreReadAndWhetherPartitionsWasGiven() {
    KafkaConfig keys =
        KafkaConfig.parse("kafka://h:9092?topic=img_loc&requests=keys&key-prefix=s3://images/");
    assertThat(keys.format()).isEqualTo(new RequestFormat(true, "s3://images/"));
    assertThat(KafkaConfig.parse("kafka://h:9092").format()).isEqualTo(RequestFormat.CONVEYOR);
    assertThat(KafkaConfig.parse("kafka://h:9092?requests=keys&key-prefix=none").format())
        .isEqualTo(new RequestFormat(true, ""));
    assertThatThrownBy(() -> KafkaConfig.parse("kafka://h:9092?key-prefix=s3://images/"))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("requests=keys");
    assertThatThrownBy(() -> KafkaConfig.parse("kafka://h:9092?requests=keys&key-prefix=images"))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("key-prefix");
    assertThatThrownBy(() -> KafkaConfig.parse("kafka://h:9092?requests=names"))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("requests");

    assertThat(KafkaConfig.parse("kafka://h:9092").partitionsGiven()).isFalse();
    assertThat(KafkaConfig.parse("kafka://h:9092").partitions()).isEqualTo(4);
    KafkaConfig three = KafkaConfig.parse("kafka://h:9092?partitions=3");
    assertThat(three.partitionsGiven()).isTrue();
    assertThat(three.partitions()).isEqualTo(3);
    // --partitions N on produce and worker comes as this override
    assertThat(KafkaConfig.parse("kafka://h:9092", Map.of("partitions", "3"))).isEqualTo(three);
  }

  @Test
  void aPartitionsMismatchIsOneLineWithBothCountsAndWhatToDo() {
    KafkaConfig three = KafkaConfig.parse("kafka://h:9092?topic=img_loc&partitions=3");
    List<String> topics = List.of("img_loc", "conveyor-results", "img_loc-dlq");
    String shrink =
        Topics.mismatch(three, topics, Map.of("img_loc", 4, "conveyor-results", 3)).orElseThrow();
    assertThat(shrink)
        .doesNotContain("\n")
        .contains("img_loc has 4 partitions, not the 3 that partitions=3 asks for")
        .contains("cannot take partitions away")
        .contains("drop partitions")
        .doesNotContain("--alter");
    KafkaConfig five = KafkaConfig.parse("kafka://h:9092?topic=img_loc&partitions=5");
    String grow =
        Topics.mismatch(five, topics, Map.of("img_loc", 4, "conveyor-results", 6, "img_loc-dlq", 5))
            .orElseThrow();
    assertThat(grow)
        .contains("img_loc has 4 partitions, not the 5")
        .contains("also conveyor-results: 6")
        .contains(
            "kafka-topics.sh --bootstrap-server h:9092 --alter --topic img_loc --partitions 5")
        .contains("cannot take partitions away");
    assertThat(Topics.mismatch(three, topics, Map.of("img_loc", 3))).isEmpty();
  }
}
