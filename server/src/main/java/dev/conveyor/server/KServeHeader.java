package dev.conveyor.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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
 * as a tree of at most {@link #MAX_VALUES} values (names, datatypes, shapes, parameters: a real
 * request has a few dozen), and each input's {@code data} apart, its numbers straight into one
 * float array (4 bytes a number, where a tree would hold an object each) or at most {@code
 * maxItems} strings. A request's JSON then takes memory in proportion to its bytes, whatever it
 * holds.
 *
 * @param request the header without the inputs' {@code data}
 * @param data each input's {@code data}, by the input's position
 */
record KServeHeader(JsonNode request, List<KServeHeader.Data> data) {
  /** The most values the header may hold besides the inputs' data. */
  static final int MAX_VALUES = 10_000;

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

    /**
     * Reads the value at the parser's current token, nested arrays flattened.
     *
     * @param maxStrings the most strings (encoded images) it may hold
     */
    static Data read(JsonParser p, int maxStrings) throws IOException {
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
            if (strings.size() == maxStrings) {
              throw bad("a request carries at most %d images".formatted(maxStrings));
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
   * @param maxItems the most images an input's {@code data} may hold
   * @throws ConveyorException {@code BAD_REQUEST} for anything else, saying where, never what
   */
  static KServeHeader read(byte[] body, int length, int maxItems) {
    int[] budget = {MAX_VALUES};
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
              inputs.add(tree(p, budget));
              data.add(Data.NONE);
              continue;
            }
            ObjectNode input = inputs.addObject();
            Data d = Data.NONE;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String field = p.currentName();
              p.nextToken();
              if ("data".equals(field)) {
                d = Data.read(p, maxItems);
              } else {
                input.set(field, tree(p, budget));
              }
            }
            data.add(d);
          }
        } else {
          root.set(name, tree(p, budget));
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

  /**
   * The value at the parser's current token as a tree, counting each value against {@code budget}:
   * a header of more values than a request needs is refused before it is held.
   */
  private static JsonNode tree(JsonParser p, int[] budget) throws IOException {
    if (--budget[0] < 0) {
      throw bad(
          "the request's header holds over %d values besides the inputs' data"
              .formatted(MAX_VALUES));
    }
    JsonNodeFactory nodes = Json.mapper().getNodeFactory();
    return switch (p.currentToken()) {
      case START_OBJECT -> {
        ObjectNode o = nodes.objectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          o.set(name, tree(p, budget));
        }
        yield o;
      }
      case START_ARRAY -> {
        ArrayNode a = nodes.arrayNode();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          a.add(tree(p, budget));
        }
        yield a;
      }
      case VALUE_STRING -> nodes.textNode(p.getText());
      case VALUE_NUMBER_INT ->
          p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
              ? nodes.numberNode(p.getBigIntegerValue())
              : nodes.numberNode(p.getLongValue());
      case VALUE_NUMBER_FLOAT -> nodes.numberNode(p.getDoubleValue());
      case VALUE_TRUE -> nodes.booleanNode(true);
      case VALUE_FALSE -> nodes.booleanNode(false);
      default -> nodes.nullNode();
    };
  }

  private static ConveyorException bad(String message) {
    return new ConveyorException(ErrorCode.BAD_REQUEST, message);
  }
}
