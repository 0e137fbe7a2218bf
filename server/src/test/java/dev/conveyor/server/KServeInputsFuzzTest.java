package dev.conveyor.server;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.Json;
import dev.conveyor.core.fuzz.FuzzRuns;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;

/**
 * KServe v2 inference requests under a coverage-guided fuzzer: JSON with base64 images or tensor
 * data, and the binary extension with its header length. Most inputs are built from the fuzzer's
 * choices in the protocol's shape (input names, datatypes, shapes, data, binary sizes), so that it
 * explores Conveyor's reading rather than the JSON parser's; the rest are raw bytes. Each body is
 * inputs, or a {@code BAD_REQUEST}/{@code BAD_TENSOR} the caller reads; never any other exception
 * (a 500).
 */
class KServeInputsFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(KServeInputsFuzzTest.class);
  private static final String[] NAMES = {"image", "tensor", "other", ""};
  private static final String[] TYPES = {"BYTES", "FP32", "FP16", "UINT8", "INT64", "x"};
  private static final String[] OUTPUTS = {"label", "score", "index", "output", "nope"};

  @FuzzTest(maxDuration = "10s")
  void read(FuzzedDataProvider data) {
    RUNS.ran();
    KServeInputs.Limits limits =
        new KServeInputs.Limits(
            data.consumeInt(1, 8), data.consumeBoolean() ? null : new int[] {1, 2, 2});
    byte[] body;
    String headerLength = null;
    if (data.consumeBoolean()) {
      byte[] json = request(data).getBytes(StandardCharsets.UTF_8);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(json);
      if (data.consumeBoolean()) {
        headerLength =
            data.consumeBoolean() ? Integer.toString(json.length) : data.consumeString(6);
        out.writeBytes(data.consumeBytes(400));
      }
      body = out.toByteArray();
    } else {
      headerLength = data.consumeBoolean() ? data.consumeString(8) : null;
      body = data.consumeRemainingAsBytes();
    }
    try {
      KServeInputs inputs = KServeInputs.read(body, headerLength, limits);
      inputs.images();
      inputs.wants(KServeV2.OUTPUT);
      inputs.binaryOutput(KServeV2.OUTPUT);
    } catch (ConveyorException expected) {
      // answered 400 with the reason
    }
  }

  /** A request in the protocol's shape, each part chosen by the fuzzer. */
  private static String request(FuzzedDataProvider data) {
    ObjectNode request = Json.mapper().createObjectNode();
    if (data.consumeBoolean()) {
      request.put("id", data.consumeString(8));
    }
    ArrayNode inputs = request.putArray("inputs");
    for (int i = data.consumeInt(0, 2); i > 0; i--) {
      ObjectNode input = inputs.addObject();
      input.put("name", data.pickValue(NAMES));
      input.put("datatype", data.pickValue(TYPES));
      ArrayNode shape = input.putArray("shape");
      for (int d = data.consumeInt(0, 4); d > 0; d--) {
        shape.add(
            data.consumeBoolean()
                ? data.consumeInt(-2, 6)
                : data.pickValue(new long[] {Integer.MAX_VALUE, 65536, 1L << 32, -1L << 40}));
      }
      if (data.consumeBoolean()) {
        input.putObject("parameters").put("binary_data_size", data.consumeInt(-1, 600));
      } else {
        ArrayNode values = input.putArray("data");
        for (int v = data.consumeInt(0, 24); v > 0; v--) {
          switch (data.consumeInt(0, 3)) {
            case 0 -> values.add(data.consumeString(16));
            case 1 -> values.add(data.consumeFloat());
            case 2 -> values.addArray().add(data.consumeInt());
            default -> values.add(data.consumeInt(0, 255));
          }
        }
      }
    }
    if (data.consumeBoolean()) {
      ArrayNode outputs = request.putArray("outputs");
      for (int i = data.consumeInt(0, 2); i > 0; i--) {
        ObjectNode o = outputs.addObject().put("name", data.pickValue(OUTPUTS));
        if (data.consumeBoolean()) {
          o.putObject("parameters").put("binary_data", data.consumeBoolean());
        }
      }
    }
    if (data.consumeBoolean()) {
      request.putObject("parameters").put("binary_data_output", data.consumeBoolean());
    }
    return Json.write(request);
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
