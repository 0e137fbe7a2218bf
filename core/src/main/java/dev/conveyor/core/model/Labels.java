package dev.conveyor.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Class names by output index. An index without a name is named by its number. */
public final class Labels {
  private static final Labels NONE = new Labels(List.of());
  private final List<String> names;

  private Labels(List<String> names) {
    this.names = List.copyOf(names);
  }

  public static Labels of(List<String> names) {
    return new Labels(names);
  }

  public static Labels none() {
    return NONE;
  }

  /** Reads a labels file: one name per line, blank lines at the end ignored. */
  public static Labels load(Path file) {
    try {
      return new Labels(trim(Files.readAllLines(file, StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read labels file " + file + ": " + e.getMessage(), e);
    }
  }

  /** The 1000 ImageNet class names, in the order ImageNet models use. */
  public static Labels imagenet() {
    try (InputStream in = Labels.class.getResourceAsStream("imagenet_classes.txt")) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Labels(trim(text.lines().toList()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> trim(List<String> lines) {
    int end = lines.size();
    while (end > 0 && lines.get(end - 1).isBlank()) {
      end--;
    }
    return lines.subList(0, end).stream().map(String::strip).toList();
  }

  public String label(int index) {
    return index < names.size() ? names.get(index) : Integer.toString(index);
  }

  public int size() {
    return names.size();
  }

  public boolean isEmpty() {
    return names.isEmpty();
  }

  /**
   * The labels a model's results should use: the file given, else the model's own, else ImageNet's
   * for a model with 1000 outputs, else none.
   */
  public static Labels choose(Path file, ModelSpec spec) {
    if (file != null) {
      return load(file);
    }
    if (!spec.labels().isEmpty()) {
      return of(spec.labels());
    }
    return spec.classes() == 1000 ? imagenet() : none();
  }
}
