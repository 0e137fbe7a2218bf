package dev.conveyor.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The JSON header of a KServe v2 request, read as a stream: everything but the inputs' {@code data}
 * as a tree of nodes, and each input's {@code data} apart, its numbers straight into one float
 * array (4 bytes a number, where a tree would hold an object each) or its strings in a list. A
 * request's JSON then takes memory in proportion to its bytes, whatever it holds.
 *
 * @param request the header without the inputs' {@code data}
 * @param data each input's {@code data}, by the input's position
 */
record KServeHeader(JsonNode request, List<KServeHeader.Data> data) {

  /**
   * One input's {@code data}, flattened in row-major order.
   *
   * @param numbers the numbers, as floats; the first {@code count} are the data's
   * @param count how many numbers
   * @param allBytes whether every number is a whole number from 0 to 255
   * @param strings the strings, or {@code null} when there are none
   * @param other whether it held anything else (objects, booleans)
   */
  record Data(float[] numbers, int count, boolean allBytes, List<String> strings, boolean other) {
    static final Data NONE = new Data(new float[0], 0, true, null, false);

    /** Reads the value at the parser's current token, nested arrays flattened. */
    static Data read(JsonParser p) throws IOException {
      float[] numbers = new float[16];
      int count = 0;
      boolean allBytes = true;
      boolean other = false;
      List<String> strings = null;
      int depth = 0;
      JsonToken t = p.currentToken();
      while (t != null) {
        switch (t) {
          case START_ARRAY -> depth++;
          case END_ARRAY -> depth--;
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
            double v = p.getDoubleValue();
            if (count == numbers.length) {
              numbers = Arrays.copyOf(numbers, count * 2);
            }
            numbers[count++] = (float) v;
            allBytes &= v >= 0 && v <= 255 && v == Math.rint(v);
          }
          case VALUE_STRING -> {
            if (strings == null) {
              strings = new ArrayList<>();
            }
            strings.add(p.getText());
          }
          case VALUE_NULL -> {
            // nothing, as an absent value
          }
          case START_OBJECT -> {
            other = true;
            p.skipChildren();
          }
          default -> other = true;
        }
        if (depth == 0) {
          break;
        }
        t = p.nextToken();
      }
      return new Data(numbers, count, allBytes, strings, other);
    }
  }

  /** Input {@code i}'s data; none for an input that had none. */
  Data data(int i) {
    return i < data.size() ? data.get(i) : Data.NONE;
  }

  /**
   * Reads the first {@code length} bytes of {@code body} as a request's JSON object.
   *
   * @throws ConveyorException {@code BAD_REQUEST} for anything else, saying where, never what
   */
  static KServeHeader read(byte[] body, int length) {
    try (JsonParser p = Json.mapper().getFactory().createParser(body, 0, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw bad("the request is a JSON object");
      }
      ObjectNode root = Json.mapper().createObjectNode();
      List<Data> data = List.of();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if ("inputs".equals(name) && value == JsonToken.START_ARRAY) {
          ArrayNode inputs = root.putArray("inputs");
          data = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
              inputs.add(tree(p));
              data.add(Data.NONE);
              continue;
            }
            ObjectNode input = inputs.addObject();
            Data d = Data.NONE;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String field = p.currentName();
              p.nextToken();
              if ("data".equals(field)) {
                d = Data.read(p);
              } else {
                input.set(field, tree(p));
              }
            }
            data.add(d);
          }
        } else {
          root.set(name, tree(p));
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw bad("the request is one JSON object");
      }
      return new KServeHeader(root, data);
    } catch (IOException e) {
      throw bad("the request is not JSON: " + Json.malformed(e));
    }
  }

  private static JsonNode tree(JsonParser p) throws IOException {
    JsonNode node = Json.mapper().readTree(p);
    return node != null ? node : Json.mapper().nullNode();
  }

  private static ConveyorException bad(String message) {
    return new ConveyorException(ErrorCode.BAD_REQUEST, message);
  }
}
