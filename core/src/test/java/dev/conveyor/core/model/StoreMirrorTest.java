package dev.conveyor.core.model;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.fetch.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class StoreMirrorTest {
  @TempDir Path dir;

  /** An object store in memory: objects by name, each tagged with its bytes' hash. */
  static final class Objects implements ObjectStore {
    final Map<String, byte[]> objects = new TreeMap<>();
    int gets;

    @Override
    public String bucket() {
      return "mem://";
    }

    @Override
    public void checkBucket(boolean create) {}

    @Override
    public String key(String name) {
      return name;
    }

    @Override
    public String put(String name, byte[] bytes, String contentType) {
      objects.put(name, bytes);
      return name;
    }

    @Override
    public List<Stored> list(String under) {
      List<Stored> out = new ArrayList<>();
      objects.forEach(
          (name, bytes) -> {
            if (name.startsWith(under)) {
              out.add(
                  new Stored(
                      name, bytes.length, Integer.toString(java.util.Arrays.hashCode(bytes))));
            }
          });
      return out;
    }

    @Override
    public void get(String name, Path to) {
      gets++;
      try {
        Files.write(to, objects.get(name));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public boolean putNew(String name, Path from) {
      if (objects.containsKey(name)) {
        return false;
      }
      try {
        objects.put(name, Files.readAllBytes(from));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return true;
    }

    @Override
    public void close() {}
  }

  private List<String> files(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(Files::isRegularFile)
          .map(f -> root.relativize(f).toString())
          .filter(f -> !f.contains("/.") && !f.startsWith("."))
          .sorted()
          .toList();
    }
  }

  @Test
  void onlyTheLayoutIsCopiedAndHostileNamesNeverLeaveTheFolder() throws IOException {
    Objects store = new Objects();
    store.put("colours/1/model.onnx", new byte[] {1}, null);
    store.put("colours/labels.txt", "a\nb\n".getBytes(UTF_8), null);
    for (String hostile :
        List.of(
            "../escape/1/model.onnx",
            "colours/../../escape",
            "colours/1/../../../escape/model.onnx",
            "/abs/1/model.onnx",
            "colours/0/model.onnx",
            "colours/1/other.onnx",
            "colours/.hidden",
            "colours/1/model.onnx/deeper",
            "x".repeat(300) + "/1/model.onnx",
            "notes.txt")) {
      store.put(hostile, new byte[] {9}, null);
    }
    Path copy = Files.createDirectories(dir.resolve("copy"));
    StoreMirror mirror = new StoreMirror(store, "mem://repo", copy);
    mirror.pull();

    assertThat(files(copy)).containsExactly("colours/1/model.onnx", "colours/labels.txt");
    assertThat(files(dir))
        .as("nothing beside the copy")
        .containsExactly("copy/colours/1/model.onnx", "copy/colours/labels.txt");
    assertThat(mirror.problems()).hasSize(10);
    assertThat(String.join("\n", mirror.problems()))
        .as("a long name is cut short in what is said")
        .doesNotContain("x".repeat(100));
  }

  @Test
  void aPullCopiesOnlyWhatChangedAndRemovesWhatTheStoreNoLongerHolds() throws IOException {
    Objects store = new Objects();
    store.put("colours/1/model.onnx", new byte[] {1}, null);
    store.put("colours/2/model.onnx", new byte[] {2, 2}, null);
    store.put("colours/config.properties", "top=1\n".getBytes(UTF_8), null);
    Path copy = Files.createDirectories(dir.resolve("copy"));
    StoreMirror mirror = new StoreMirror(store, "mem://repo", copy);
    mirror.pull();
    assertThat(store.gets).isEqualTo(3);
    mirror.pull();
    assertThat(store.gets).as("nothing changed, nothing copied").isEqualTo(3);

    store.put("colours/config.properties", "top=2\n".getBytes(UTF_8), null); // same size
    store.objects.remove("colours/2/model.onnx");
    mirror.pull();
    assertThat(store.gets).isEqualTo(4);
    assertThat(Files.readString(copy.resolve("colours/config.properties"))).isEqualTo("top=2\n");
    assertThat(files(copy)).containsExactly("colours/1/model.onnx", "colours/config.properties");
    assertThat(copy.resolve("colours/2")).doesNotExist();

    // a second process's copy of the same store copies nothing it already has
    StoreMirror again = new StoreMirror(store, "mem://repo", copy);
    again.pull();
    assertThat(store.gets).isEqualTo(4);
  }

  @Test
  void publishingTakesTheNextFreeNumber() throws IOException {
    Objects store = new Objects();
    store.put("colours/1/model.onnx", new byte[] {1}, null);
    store.put("colours/7/model.onnx", new byte[] {1}, null);
    store.put("colourless/9/model.onnx", new byte[] {1}, null);
    Path model = Files.write(dir.resolve("m.onnx"), new byte[] {3});
    StoreMirror mirror =
        new StoreMirror(store, "mem://repo", Files.createDirectories(dir.resolve("c")));
    assertThat(mirror.publish("colours", model)).isEqualTo(8);
    assertThat(mirror.publish("fresh", model)).isEqualTo(1);
    assertThat(store.objects).containsKeys("colours/8/model.onnx", "fresh/1/model.onnx");
  }
}
