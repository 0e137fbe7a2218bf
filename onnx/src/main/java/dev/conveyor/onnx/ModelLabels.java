package dev.conveyor.onnx;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.conveyor.core.Json;
import java.util.List;
import java.util.Map;

/**
 * Class names stored in a model's metadata under the key {@code labels}: a JSON array of strings,
 * or one name per line.
 */
final class ModelLabels {
  static final String KEY = "labels";

  private ModelLabels() {}

  static List<String> read(Map<String, String> metadata) {
    String text = metadata.get(KEY);
    if (text == null || text.isBlank()) {
      return List.of();
    }
    String trimmed = text.strip();
    if (trimmed.startsWith("[")) {
      try {
        return Json.mapper().readValue(trimmed, new TypeReference<List<String>>() {});
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException("the model's 'labels' metadata is not a JSON array", e);
      }
    }
    return trimmed.lines().map(String::strip).toList();
  }
}
