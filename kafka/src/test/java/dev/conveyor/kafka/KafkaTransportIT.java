package dev.conveyor.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.LoneRequests;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.Ports;
import dev.conveyor.testing.Requirements;
import dev.conveyor.testing.TestProcesses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kafka transport against a real KRaft broker started for this class. */
class KafkaTransportIT {
  private static final String[] COLOURS = {"cmyk-red.jpg", "rgb16-green.png", "palette-blue.png"};
  private static final String[] EXPECTED = {"red", "green", "blue"};

  @TempDir static Path dir;
  static KafkaServer broker;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeAll
  static void startBroker() throws Exception {
    broker = KafkaServer.start(dir);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    broker.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T c) {
    open.add(c);
    return c;
  }

  private void worker(KafkaConfig address, MeanColourClassifier model) {
    keep(
        TestWorkers.colour(
            keep(new KafkaTransport(address, 4)), keep(new KafkaResultSink(address)), model, 4));
  }

  /** Waits until the group has {@code n} members, each with partitions assigned. */
  private static void awaitMembers(KafkaConfig address, int n) throws Exception {
    try (var admin = org.apache.kafka.clients.admin.Admin.create(address.properties())) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        var group =
            admin
                .describeConsumerGroups(List.of(address.group()))
                .all()
                .get(10, TimeUnit.SECONDS)
                .get(address.group());
        long assigned =
            group.members().stream()
                .filter(m -> !m.assignment().topicPartitions().isEmpty())
                .count();
        if (assigned >= n) {
          return;
        }
        assertThat(System.nanoTime()).as("%d members with partitions", n).isLessThan(deadline);
        Thread.sleep(100);
      }
    }
  }

  private static List<String> produce(KafkaConfig address, int n) throws InterruptedException {
    List<String> ids = new ArrayList<>();
    try (KafkaRequests requests = new KafkaRequests(address)) {
      for (int i = 0; i < n; i++) {
        ImageRequest r =
            ImageRequest.ofBytes(COLOURS[i % 3], TestImages.bytes(COLOURS[i % 3]), "image/png");
        requests.send(r, Duration.ofSeconds(30));
        ids.add(r.id());
      }
      assertThat(requests.flush(Duration.ofSeconds(30))).as("records Kafka did not take").isEmpty();
    }
    return ids;
  }

  /**
   * Every record of a topic, read from the start, until {@code expected} arrived or time ran out.
   */
  private static List<ConsumerRecord<String, byte[]>> readAll(
      KafkaConfig address, String topic, int expected, Duration timeout) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = TestConsumers.readFromStart(address, topic)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void aLoneRequestStartsAtOnceAndABusyWorkerGathersABatch() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(broker.uri("topic=images-lone&results=results-lone&group=g-lone"));
    MeanColourClassifier model = LoneRequests.slowModel();
    keep(
        TestWorkers.colour(
            keep(new KafkaTransport(address, 8)),
            keep(new KafkaResultSink(address)),
            model,
            LoneRequests.CONFIG));
    awaitMembers(address, 1);
    long start = System.nanoTime();
    List<String> ids = new ArrayList<>(produce(address, 1));
    LoneRequests.awaitTheFirstBatch(model);
    ids.addAll(produce(address, 5));
    assertThat(readAll(address, address.results(), 6, Duration.ofSeconds(20))).hasSize(6);
    LoneRequests.assertTheLoneOneRanAloneAtOnce(model, start);
  }

  @Test
  void workersAndProducersWorkOverSaslScramAndTls() throws Exception {
    String uri =
        broker.secureUri(
            "topic=images-sasl&results=results-sasl&group=g-sasl",
            KafkaServer.USER,
            KafkaServer.PASSWORD);
    KafkaConfig address = KafkaConfig.parse(uri);
    assertThat(address.describe()).doesNotContain(KafkaServer.PASSWORD);
    assertThat(address.toString()).doesNotContain(KafkaServer.PASSWORD);
    worker(address, new MeanColourClassifier(32, 32));
    awaitMembers(address, 1);
    // the producer reads its JAAS configuration from a file, as a JAAS file's section
    Path jaas =
        java.nio.file.Files.writeString(
            dir.resolve("producer-jaas.conf"),
            "KafkaClient {\n  " + address.properties().getProperty("sasl.jaas.config") + "\n};\n");
    KafkaConfig fromFile =
        KafkaConfig.parse(
            uri.replaceAll("&kafka\\.sasl\\.jaas\\.config=[^&]*", "") + "&sasl-jaas-file=" + jaas);
    assertThat(fromFile.properties()).isEqualTo(address.properties());
    List<String> ids = produce(fromFile, 6);
    assertLabels(readAll(address, address.results(), 6, Duration.ofSeconds(60)), ids);
    assertThat(resultsPerId(address, ids, Duration.ofSeconds(10)).keySet())
        .containsExactlyInAnyOrderElementsOf(ids);

    // a wrong password is refused, and the error does not repeat it
    KafkaConfig wrong =
        KafkaConfig.parse(
            broker.secureUri(
                "topic=images-sasl&kafka.max.block.ms=5000", KafkaServer.USER, "wrong-pass-9"));
    try (KafkaRequests requests = new KafkaRequests(wrong)) {
      ImageRequest r = ImageRequest.ofBytes("a.png", TestImages.bytes("palette-blue.png"), null);
      assertThatThrownBy(() -> requests.send(r, Duration.ofSeconds(5)))
          .isInstanceOf(ConveyorException.class)
          .satisfies(e -> assertThat(e.toString()).doesNotContain("wrong-pass-9"));
    }
  }

  @Test
  void aProducerReportsEveryRecordABrokerThatIsDownDidNotTake() throws Exception {
    int closedPort = Ports.free();
    KafkaConfig down = KafkaConfig.parse("kafka://127.0.0.1:" + closedPort);
    try (KafkaRequests requests = new KafkaRequests(down)) {
      ImageRequest r = ImageRequest.ofBytes("a.png", TestImages.bytes("palette-blue.png"), null);
      assertThatThrownBy(() -> requests.send(r, Duration.ofSeconds(2)))
          .isInstanceOf(ConveyorException.class)
          .hasMessageContaining("cannot reach Kafka at 127.0.0.1:" + closedPort);
    }
  }

  @Test
  void twoWorkersShareAFourPartitionTopicAndClassifyEveryRequestOnce() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(broker.uri("topic=images-a&results=results-a&group=g-a"));
    MeanColourClassifier a = new MeanColourClassifier(32, 32);
    MeanColourClassifier b = new MeanColourClassifier(32, 32);
    worker(address, a);
    worker(address, b);
    awaitMembers(address, 2);
    List<String> ids = produce(address, 60);
    List<ConsumerRecord<String, byte[]>> results =
        readAll(address, address.results(), 60, Duration.ofSeconds(60));
    Map<String, Integer> perId = new HashMap<>();
    for (var r : results) {
      perId.merge(r.key(), 1, Integer::sum);
      ClassifyResult result =
          Json.read(new String(r.value(), StandardCharsets.UTF_8), ClassifyResult.class);
      int i = ids.indexOf(result.id());
      assertThat(result.top().label()).isEqualTo(EXPECTED[i % 3]);
      assertThat(result.host()).isNotBlank();
    }
    assertThat(perId).hasSize(60).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    try (var admin = org.apache.kafka.clients.admin.Admin.create(address.properties())) {
      assertThat(
              admin
                  .describeTopics(List.of(address.topic()))
                  .allTopicNames()
                  .get(30, TimeUnit.SECONDS)
                  .get(address.topic())
                  .partitions())
          .hasSize(4);
    }
    assertThat(a.batchSizes()).as("both workers took part").isNotEmpty();
    assertThat(b.batchSizes()).isNotEmpty();
  }

  /** Results per request id, read from the results topic until every id has one. */
  private static Map<String, Integer> resultsPerId(
      KafkaConfig address, List<String> ids, Duration timeout) {
    Map<String, Integer> perId = new HashMap<>();
    try (KafkaConsumer<String, byte[]> c =
        TestConsumers.readFromStart(address, address.results())) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!perId.keySet().containsAll(ids) && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> perId.merge(r.key(), 1, Integer::sum));
      }
      // a little longer, to see duplicates that are still on their way
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < settle) {
        c.poll(Duration.ofMillis(200)).forEach(r -> perId.merge(r.key(), 1, Integer::sum));
      }
    }
    return perId;
  }

  private static final String FAST_GROUP =
      "&kafka.session.timeout.ms=6000&kafka.heartbeat.interval.ms=1000";

  @Test
  void aWorkerKilledMidBatchLosesNothing() throws Exception {
    String uri = broker.uri("topic=images-k&results=results-k&group=g-k" + FAST_GROUP);
    KafkaConfig address = KafkaConfig.parse(uri);
    Topics.ensure(address);
    List<String> ids = produce(address, 40);
    Process victim = startWorkerProcess(uri, 4, 400);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (readAll(address, address.results(), 4, Duration.ofMillis(500)).size() < 4) {
      assertThat(System.nanoTime()).as("the victim produced results").isLessThan(deadline);
    }
    TestProcesses.kill(victim);
    int byVictim = readAll(address, address.results(), 40, Duration.ofSeconds(1)).size();
    long committed = committed(address);
    System.out.printf(
        "kill -9: %d of 40 answered by the killed worker, %d committed%n", byVictim, committed);
    // the victim, the group's only member, owned every partition: what is past its committed
    // offsets was its work, and the next worker must start from there
    assertThat(byVictim).as("killed before finishing").isLessThan(40);
    assertThat(committed).as("offsets the victim committed").isLessThanOrEqualTo(byVictim);

    worker(address, new MeanColourClassifier(32, 32));
    Map<String, Integer> perId = resultsPerId(address, ids, Duration.ofSeconds(90));
    assertThat(perId.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    long duplicates = perId.values().stream().mapToInt(n -> n - 1).sum();
    System.out.printf("kill -9: %d duplicates%n", duplicates);
    // only what the victim answered without committing can be answered twice
    assertThat(duplicates).isLessThanOrEqualTo(byVictim - committed);
    assertLabels(
        readAll(address, address.results(), 40 + (int) duplicates, Duration.ofSeconds(5)), ids);
  }

  /** The offsets the group has committed, summed over the partitions of its topic. */
  private static long committed(KafkaConfig address) throws Exception {
    try (var admin = org.apache.kafka.clients.admin.Admin.create(address.properties())) {
      return admin
          .listConsumerGroupOffsets(address.group())
          .partitionsToOffsetAndMetadata()
          .get(30, TimeUnit.SECONDS)
          .values()
          .stream()
          .filter(java.util.Objects::nonNull)
          .mapToLong(o -> o.offset())
          .sum();
    }
  }

  /** Each result is ok and names the colour its request was sent as. */
  private static void assertLabels(List<ConsumerRecord<String, byte[]>> results, List<String> ids) {
    for (var r : results) {
      ClassifyResult result =
          Json.read(new String(r.value(), StandardCharsets.UTF_8), ClassifyResult.class);
      int i = ids.indexOf(result.id());
      assertThat(i).as("a result for a request sent: %s", result.id()).isNotNegative();
      assertThat(result.top().label()).as(result.id()).isEqualTo(EXPECTED[i % 3]);
    }
  }

  @Test
  void aWorkerJoiningMidRunLosesNothing() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(broker.uri("topic=images-j&results=results-j&group=g-j" + FAST_GROUP));
    MeanColourClassifier first = new MeanColourClassifier(32, 32).slow(250);
    worker(address, first);
    List<String> ids = produce(address, 60);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (first.batchSizes().size() < 2) {
      assertThat(System.nanoTime()).as("the first worker is under way").isLessThan(deadline);
      Thread.sleep(10);
    }
    MeanColourClassifier late = new MeanColourClassifier(32, 32);
    worker(address, late);
    Map<String, Integer> perId = resultsPerId(address, ids, Duration.ofSeconds(90));
    assertThat(perId.keySet()).containsAll(ids);
    long duplicates = perId.values().stream().mapToInt(n -> n - 1).sum();
    System.out.printf(
        "rebalance: %d duplicates of 60; the late worker ran %d batches%n",
        duplicates, late.batchSizes().size());
    assertThat(late.batchSizes())
        .as("the late worker took over partitions and worked")
        .isNotEmpty();
    assertThat(duplicates).as("a rebalance repeats no whole batch").isLessThan(4);
    assertLabels(
        readAll(address, address.results(), 60 + (int) duplicates, Duration.ofSeconds(5)), ids);
  }

  private Process startWorkerProcess(String uri, int batch, int delayMillis) throws Exception {
    Process p =
        TestProcesses.startJava(
            KafkaTestWorkerMain.class, uri, Integer.toString(batch), Integer.toString(delayMillis));
    keep(() -> TestProcesses.kill(p));
    return p;
  }

  @Test
  void aProducerThatIsNotConveyorIsServed() throws Exception {
    Requirements.executable(Path.of("/usr/bin/kcat"), "apt-get install kcat");
    KafkaConfig address =
        KafkaConfig.parse(broker.uri("topic=images-kcat&results=results-kcat&group=g-kcat"));
    worker(address, new MeanColourClassifier(32, 32));
    Path image = dir.resolve("blue.png");
    java.nio.file.Files.write(image, TestImages.bytes("palette-blue.png"));
    Path list = dir.resolve("list.txt");
    java.nio.file.Files.writeString(list, image.toString());
    // docs/REQUESTS.md's form: key = id, value = the image file, header content-type
    Process kcat =
        new ProcessBuilder(
                "kcat",
                "-P",
                "-b",
                address.bootstrap(),
                "-t",
                address.topic(),
                "-k",
                "from-kcat",
                "-H",
                "content-type=image/png",
                image.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(kcat.waitFor()).as(out).isZero();
    List<ConsumerRecord<String, byte[]>> results =
        readAll(address, address.results(), 1, Duration.ofSeconds(60));
    assertThat(results).hasSize(1);
    ClassifyResult r =
        Json.read(new String(results.get(0).value(), StandardCharsets.UTF_8), ClassifyResult.class);
    assertThat(r.id()).isEqualTo("from-kcat");
    assertThat(r.top().label()).isEqualTo("blue");
  }

  @Test
  void hostileImagesGetErrorResultsAtOnceAndTheWorkerGoesOn() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(
            broker.uri("topic=images-hostile&results=results-hostile&group=g-hostile"));
    worker(address, new MeanColourClassifier(32, 32));
    Map<String, ErrorCode> hostile = TestImages.HOSTILE;
    List<String> names = new ArrayList<>(hostile.keySet());
    names.add("palette-blue.png");
    Map<String, String> nameOf = new HashMap<>();
    try (KafkaRequests requests = new KafkaRequests(address)) {
      for (String name : names) {
        ImageRequest r = ImageRequest.ofBytes(name, TestImages.bytes(name), null);
        nameOf.put(r.id(), name);
        requests.send(r, Duration.ofSeconds(30));
      }
      assertThat(requests.flush(Duration.ofSeconds(30))).isEmpty();
    }
    List<ConsumerRecord<String, byte[]>> results =
        readAll(address, address.results(), names.size(), Duration.ofSeconds(60));
    assertThat(results).hasSize(names.size());
    for (ConsumerRecord<String, byte[]> record : results) {
      ClassifyResult r =
          Json.read(new String(record.value(), StandardCharsets.UTF_8), ClassifyResult.class);
      String name = nameOf.get(r.id());
      if (name.equals("palette-blue.png")) {
        assertThat(r.top().label()).as("the worker goes on").isEqualTo("blue");
      } else {
        assertThat(r.error().code()).as(name).isEqualTo(hostile.get(name));
      }
    }
  }

  @Test
  void aRecordMayCarryAReferenceToTheImageInsteadOfItsBytes() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(broker.uri("topic=images-ref&results=results-ref&group=g-ref"));
    worker(address, new MeanColourClassifier(32, 32));
    Path image = dir.resolve("red.jpg");
    java.nio.file.Files.write(image, TestImages.bytes("cmyk-red.jpg"));
    Properties p = KafkaRequests.producerProperties(address);
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(p)) {
      var record =
          new org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>(
              address.topic(), "by-ref", image.toString().getBytes(StandardCharsets.UTF_8));
      record.headers().add(Records.CONTENT_REF, "file".getBytes(StandardCharsets.UTF_8));
      producer.send(record).get();
    }
    List<ConsumerRecord<String, byte[]>> results =
        readAll(address, address.results(), 1, Duration.ofSeconds(60));
    ClassifyResult r =
        Json.read(new String(results.get(0).value(), StandardCharsets.UTF_8), ClassifyResult.class);
    assertThat(r.id()).isEqualTo("by-ref");
    assertThat(r.source()).isEqualTo(image.toString());
    assertThat(r.top().label()).isEqualTo("red");
  }

  /**
   * Seed 004's producer, unchanged: a plain producer sends each object key as the value, with no
   * record key and no headers. A worker reading the topic with requests=keys fetches key-prefix +
   * key under the key as id; a value that is not a plain key is answered BAD_REQUEST under the
   * record's place, and Conveyor's own records on the same topic are read as they always were.
   */
  @Test
  void bareKeysFromAPlainProducerAreReferencesUnderKeyPrefix() throws Exception {
    Path images = java.nio.file.Files.createDirectories(dir.resolve("keys/day1/n0144"));
    java.nio.file.Files.write(images.resolve("red.jpg"), TestImages.bytes("cmyk-red.jpg"));
    // beside the prefix's folder, readable by the worker (its fetch-allow is file:/): a key must
    // not reach it
    java.nio.file.Files.write(dir.resolve("keys/secret.png"), TestImages.bytes("palette-blue.png"));
    String prefix = "file:" + dir.resolve("keys/day1") + "/";
    KafkaConfig address =
        KafkaConfig.parse(
            broker.uri(
                "topic=images-keys&results=results-keys&group=g-keys&requests=keys&key-prefix="
                    + prefix));
    worker(address, new MeanColourClassifier(32, 32));
    List<byte[]> values =
        List.of(
            "n0144/red.jpg".getBytes(StandardCharsets.UTF_8),
            "../secret.png".getBytes(StandardCharsets.UTF_8),
            new byte[] {'a', (byte) 0xC3, (byte) 0x28, '.', 'p', 'n', 'g'},
            "n0144/red.jpg\nFORGED".getBytes(StandardCharsets.UTF_8),
            "n0144/missing.jpg".getBytes(StandardCharsets.UTF_8));
    Properties p = new Properties();
    p.put("bootstrap.servers", address.bootstrap());
    p.put(
        "key.serializer",
        org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    p.put(
        "value.serializer",
        org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(p)) {
      for (byte[] value : values) {
        producer
            .send(new org.apache.kafka.clients.producer.ProducerRecord<>(address.topic(), value))
            .get();
      }
    }
    // Conveyor's own record, an image, on the same topic
    String own;
    try (KafkaRequests requests = new KafkaRequests(address)) {
      ImageRequest r = ImageRequest.ofBytes("blue.png", TestImages.bytes("palette-blue.png"), null);
      own = r.id();
      requests.send(r, Duration.ofSeconds(30));
      assertThat(requests.flush(Duration.ofSeconds(30))).isEmpty();
    }
    Map<String, ClassifyResult> byId = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r :
        readAll(address, address.results(), values.size() + 1, Duration.ofSeconds(60))) {
      byId.put(
          r.key(), Json.read(new String(r.value(), StandardCharsets.UTF_8), ClassifyResult.class));
    }
    assertThat(byId).hasSize(values.size() + 1);
    ClassifyResult red = byId.get("n0144/red.jpg");
    assertThat(red.top().label()).isEqualTo("red");
    assertThat(red.source()).isEqualTo(prefix + "n0144/red.jpg");
    assertThat(byId.get("n0144/missing.jpg").error().code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(byId.get(own).top().label()).isEqualTo("blue");
    List<ClassifyResult> refused =
        byId.values().stream().filter(r -> r.id().startsWith("images-keys/")).toList();
    assertThat(refused).hasSize(3);
    for (ClassifyResult r : refused) {
      assertThat(r.error().code()).as(r.id()).isEqualTo(ErrorCode.BAD_REQUEST);
      assertThat(r.error().message())
          .contains("requests=keys")
          .doesNotContain("secret")
          .doesNotContain("FORGED");
    }
  }

  /**
   * A topic made with 3 partitions keeps them: a process that sets partitions=4 reports both counts
   * in one line, one that does not set it uses the topic silently.
   */
  @Test
  void anExistingTopicKeepsItsPartitionsAndAnotherCountIsReported() throws Exception {
    String query = "topic=images-p3&results=results-p3&group=g-p3";
    KafkaConfig plain = KafkaConfig.parse(broker.uri(query));
    try (Admin admin = Admin.create(plain.properties())) {
      admin.createTopics(List.of(new NewTopic(plain.topic(), 3, (short) 1))).all().get();
    }
    String warning =
        Topics.ensure(KafkaConfig.parse(broker.uri(query + "&partitions=4"))).orElseThrow();
    assertThat(warning)
        .doesNotContain("\n")
        .contains("images-p3 has 3 partitions, not the 4 that partitions=4 asks for")
        .contains("--alter --topic images-p3 --partitions 4")
        .contains("drop partitions");
    assertThat(Topics.ensure(plain)).as("no setting: the topic as it is, silently").isEmpty();
    // the topics the first process made with 4 are reported to one that sets 3; the requests
    // topic, which has 3, is not
    assertThat(Topics.ensure(KafkaConfig.parse(broker.uri(query + "&partitions=3"))).orElseThrow())
        .startsWith("Kafka topic results-p3 has 4 partitions, not the 3")
        .contains("also images-p3-dlq: 4")
        .doesNotContain("images-p3 has");
    try (Admin admin = Admin.create(plain.properties())) {
      var topics =
          admin
              .describeTopics(List.of(plain.topic(), plain.results()))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS);
      assertThat(topics.get(plain.topic()).partitions()).hasSize(3);
      // the missing results topic was made by the first process, with the count it gave
      assertThat(topics.get(plain.results()).partitions()).hasSize(4);
    }
  }

  @Test
  void aReplyToOutsideTheNamespaceOrToNoTopicIsRefusedAndCreatesNothing() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(broker.uri("topic=images-rt&results=results-rt&group=g-rt"));
    String mine = address.replyPrefix() + "mine";
    String missing = address.replyPrefix() + "never-made";
    try (Admin admin = Admin.create(address.properties())) {
      admin.createTopics(List.of(new NewTopic(mine, 1, (short) 1))).all().get();
    }
    worker(address, new MeanColourClassifier(32, 32));
    Map<String, String> replyTo =
        Map.of("own", mine, "queue", address.topic(), "other", "another-app", "none", missing);
    Properties p = KafkaRequests.producerProperties(address);
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(p)) {
      for (Map.Entry<String, String> e : replyTo.entrySet()) {
        var record =
            new org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>(
                address.topic(), e.getKey(), TestImages.bytes("palette-blue.png"));
        record.headers().add(Records.REPLY_TO, e.getValue().getBytes(StandardCharsets.UTF_8));
        producer.send(record).get();
      }
    }
    Map<String, ClassifyResult> byId = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r :
        readAll(address, address.results(), replyTo.size(), Duration.ofSeconds(60))) {
      byId.put(
          r.key(), Json.read(new String(r.value(), StandardCharsets.UTF_8), ClassifyResult.class));
    }
    assertThat(byId.get("own").top().label()).isEqualTo("blue");
    for (String refused : List.of("queue", "other", "none")) {
      assertThat(byId.get(refused).error().code()).as(refused).isEqualTo(ErrorCode.BAD_REQUEST);
      assertThat(byId.get(refused).error().message()).as(refused).contains("reply-to");
    }
    assertThat(readAll(address, mine, 1, Duration.ofSeconds(30))).hasSize(1);
    try (Admin admin = Admin.create(address.properties())) {
      assertThat(admin.listTopics().names().get())
          .as("no topic made for a request")
          .doesNotContain(missing, "another-app");
    }
  }

  @Test
  void aRecordThatFailsEveryTimeEndsInTheDeadLetterTopicWithItsError() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(
            broker.uri("topic=images-p&results=results-p&group=g-p&max-deliveries=3"));
    MeanColourClassifier failing = new MeanColourClassifier(32, 32, call -> true);
    worker(address, failing);
    List<String> ids = produce(address, 1);
    List<ConsumerRecord<String, byte[]>> dead =
        readAll(address, address.deadLetter(), 1, Duration.ofSeconds(60));
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).key()).isEqualTo(ids.get(0));
    assertThat(Records.header(dead.get(0).headers(), Records.ERROR))
        .contains("3 deliveries")
        .contains("the model failed");
    assertThat(dead.get(0).value()).isEqualTo(TestImages.bytes(COLOURS[0]));
    assertThat(failing.batchSizes()).hasSize(3);
  }

  @Test
  void aNumberedBatchIsWrittenOnceAndAWriterStartedAgainFencesTheOneBefore() throws Exception {
    KafkaConfig a = KafkaConfig.parse(broker.uri("results=batched&partitions=1"));
    Topics.ensure(a);
    List<KafkaBatches.Out> batch3 =
        List.of(
            new KafkaBatches.Out("batched", "r1", "{}"),
            new KafkaBatches.Out("batched", "r2", "{}"));
    try (KafkaBatches first = new KafkaBatches(a, "test-writer")) {
      assertThat(first.write(3, batch3)).isTrue();
      // the same batch again (run again after a failure), and one before it: nothing written
      assertThat(first.write(3, batch3)).isFalse();
      assertThat(first.write(2, batch3)).isFalse();
      try (KafkaBatches again = new KafkaBatches(a, "test-writer")) {
        // the writer started again knows what was written, and the one before it is fenced
        assertThat(again.write(3, batch3)).isFalse();
        assertThat(again.write(4, List.of(new KafkaBatches.Out("batched", "r3", "{}")))).isTrue();
        assertThatThrownBy(
                () -> first.write(5, List.of(new KafkaBatches.Out("batched", "r4", "{}"))))
            .isInstanceOf(dev.conveyor.core.ConveyorException.class);
      }
    }
    List<String> keys = committed(a, "batched", 3).stream().map(ConsumerRecord::key).toList();
    assertThat(keys).containsExactly("r1", "r2", "r3");
  }

  @Test
  void exactlyOnceARequestReleasedIsSentAgainInItsBatchsTransaction() throws Exception {
    KafkaConfig address =
        KafkaConfig.parse(
            broker.uri(
                "topic=images-once&results=results-once&group=g-once&partitions=1"
                    + "&delivery=exactly-once"));
    List<String> ids = produce(address, 3);
    KafkaTransport transport = keep(new KafkaTransport(address, 8));
    List<dev.conveyor.core.transport.Delivery> got = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (got.size() < 3 && System.nanoTime() < deadline) {
      got.addAll(transport.poll(8, Duration.ofSeconds(1)));
    }
    assertThat(got).hasSize(3);
    // one request released (its fetch timed out, say): its copy waits for the batch's transaction
    transport.release(List.of(got.get(0)), "timed out");
    Thread.sleep(500); // time enough for a copy sent outside the transaction to be seen
    assertThat(committed(address, address.topic())).hasSize(3);
    List<dev.conveyor.core.ClassifyResult> results = new ArrayList<>();
    for (var d : got.subList(1, 3)) {
      results.add(
          dev.conveyor.core.ClassifyResult.ok(
              d.request(), "m", List.of(new dev.conveyor.core.Prediction(1, "red", 0.9f)), "h", 1));
    }
    transport.exactlyOnce().orElseThrow().deliverAndAck(got.subList(1, 3), results);
    // the copy, the results and the offsets past all three, in one transaction (readers see a
    // committed transaction once its markers are written, a moment after the commit)
    List<ConsumerRecord<String, byte[]>> requests = committed(address, address.topic(), 4);
    assertThat(requests).hasSize(4);
    assertThat(requests.get(3).key()).isEqualTo(ids.get(0));
    assertThat(new String(requests.get(3).headers().lastHeader(Records.ATTEMPT).value()))
        .isEqualTo("2");
    assertThat(committed(address, address.results(), 2)).hasSize(2);
    assertThat(groupOffset(address, 3)).isEqualTo(3);
    // a batch released whole (the model failed): its copies and offsets are committed at once
    List<dev.conveyor.core.transport.Delivery> copy = new ArrayList<>();
    while (copy.isEmpty() && System.nanoTime() < deadline) {
      copy.addAll(transport.poll(8, Duration.ofSeconds(1)));
    }
    assertThat(copy).hasSize(1);
    transport.release(copy, "the model failed");
    assertThat(committed(address, address.topic(), 5)).hasSize(5);
    assertThat(groupOffset(address, 4)).isEqualTo(4);
  }

  /**
   * The records of {@code topic} that readers of committed records see, once there are {@code
   * expected} of them (or after 20 s, whatever there is).
   */
  private static List<ConsumerRecord<String, byte[]>> committed(
      KafkaConfig address, String topic, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    List<ConsumerRecord<String, byte[]>> seen = committed(address, topic);
    while (seen.size() < expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
      seen = committed(address, topic);
    }
    return seen;
  }

  /** The records of {@code topic} that readers of committed records see now. */
  private static List<ConsumerRecord<String, byte[]>> committed(KafkaConfig address, String topic) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    Properties p = address.properties();
    p.put("isolation.level", "read_committed");
    p.put(
        "key.deserializer",
        org.apache.kafka.common.serialization.StringDeserializer.class.getName());
    p.put(
        "value.deserializer",
        org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
      var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        c.poll(Duration.ofMillis(500)).forEach(out::add);
      }
    }
    return out;
  }

  /**
   * The group's committed offset on the requests topic's partition 0, once it is {@code expected}
   * (or after 20 s, whatever it is): a transaction's offsets show once its markers are written.
   */
  private static long groupOffset(KafkaConfig address, long expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    try (var admin = org.apache.kafka.clients.admin.Admin.create(address.properties())) {
      while (true) {
        var at =
            admin
                .listConsumerGroupOffsets(address.group())
                .partitionsToOffsetAndMetadata()
                .get()
                .get(new org.apache.kafka.common.TopicPartition(address.topic(), 0));
        long offset = at == null ? -1 : at.offset();
        if (offset == expected || System.nanoTime() > deadline) {
          return offset;
        }
        Thread.sleep(50);
      }
    }
  }
}
