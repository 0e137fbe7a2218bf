package dev.conveyor.core;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/** The project's one JSON mapper, configured once. */
public final class Json {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private Json() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Writes a value as one line of JSON. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new ConveyorException(ErrorCode.INTERNAL, "cannot write JSON: " + e.getMessage(), e);
    }
  }

  public static <T> T read(String json, Class<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "not valid JSON for " + type.getSimpleName() + ": " + malformed(e), e);
    }
  }

  /**
   * What is wrong with JSON that could not be read, by its position only: Jackson's own messages
   * quote the offending text, and JSON that comes from outside is never echoed back.
   */
  public static String malformed(IOException e) {
    JsonLocation at = e instanceof JsonProcessingException j ? j.getLocation() : null;
    if (at == null || at.getLineNr() < 1) {
      return "malformed JSON";
    }
    return "malformed JSON at line %d, column %d".formatted(at.getLineNr(), at.getColumnNr());
  }
}
