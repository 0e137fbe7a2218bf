package dev.conveyor.core.model;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Settings;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A model repository in a folder, laid out as Triton, TorchServe and KServe lay theirs out: {@code
 * NAME/VERSION/model.onnx}, versions numbered from 1, the highest the newest. A model may have a
 * {@code NAME/config.properties} of settings by their catalogue names ({@code preset=imagenet},
 * {@code labels=labels.txt}, {@code batch=32}) that hold for each of its versions; which settings a
 * model may set, and what a file it names is relative to (its folder), is for whoever opens it.
 *
 * <p>The folder is read afresh by each {@link #index()}, so that a version written into it is seen
 * on the next read. A repository in an object store ({@code s3://bucket/prefix}) is copied into a
 * local folder, which each {@link #pull()} brings up to the store's objects. What does not fit the
 * layout (a folder whose name is not a model name, a version that is not a number or has no {@code
 * model.onnx}, an unreadable config) is left out of the index and reported in its {@linkplain
 * RepositoryIndex#problems() problems}: one bad entry never hides the others.
 */
public final class ModelRepository implements AutoCloseable {
  /** The file each version's folder holds. */
  public static final String MODEL_FILE = "model.onnx";

  /** A model's settings, beside its versions. */
  public static final String CONFIG_FILE = "config.properties";

  /** What a model's name may be: what is safe in a path, a URL and a header alike. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

  private final Path root;
  private final StoreMirror store;

  private ModelRepository(Path root, StoreMirror store) {
    this.root = root;
    this.store = store;
  }

  /**
   * The repository at {@code where}: a folder, or an object store's {@code s3://bucket/prefix},
   * copied into a folder under the system's temporary folder and {@linkplain #pull() pulled} once.
   *
   * @param settings the object store's client settings ({@code s3-endpoint}, …)
   * @throws ConveyorException {@code INVALID_SETTING} when the folder is not one or the address is
   *     not an object store's, {@code UNAVAILABLE} when the store cannot be read
   */
  public static ModelRepository open(String where, Settings settings) {
    if (!isStore(where)) {
      return open(Path.of(where));
    }
    ModelRepository repository = inStore(where, settings, false);
    repository.pull();
    return repository;
  }

  /**
   * The repository at {@code where} to publish into: a folder, made when missing, or an object
   * store's {@code s3://bucket/prefix}, whose bucket must be there.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it cannot be made or found
   */
  public static ModelRepository forPublishing(String where, Settings settings) {
    return isStore(where) ? inStore(where, settings, true) : create(Path.of(where));
  }

  /** Whether {@code where} names an object store rather than a folder. */
  public static boolean isStore(String where) {
    return where.matches("[A-Za-z][A-Za-z0-9+.-]*://.*");
  }

  private static ModelRepository inStore(String where, Settings settings, boolean checkBucket) {
    StoreMirror mirror = StoreMirror.open(where, settings, checkBucket);
    return new ModelRepository(mirror.folder(), mirror);
  }

  /**
   * Brings the local copy of a repository kept in an object store up to the store's objects;
   * nothing for a folder, which is read as it is.
   *
   * @throws ConveyorException {@code UNAVAILABLE} when the store cannot be read
   */
  public void pull() {
    if (store != null) {
      store.pull();
    }
  }

  /** Closes the object store's client, for a repository kept in one. */
  @Override
  public void close() {
    if (store != null) {
      store.close();
    }
  }

  /** Where the repository is, for people: its folder, or its object store's address. */
  public String location() {
    return store != null ? store.location() : root.toString();
  }

  /**
   * The repository in {@code folder}.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it is not a folder
   */
  public static ModelRepository open(Path folder) {
    if (!Files.isDirectory(folder)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model repository "
              + folder
              + " is not a folder: give a folder laid out NAME/VERSION/model.onnx");
    }
    return new ModelRepository(folder.toAbsolutePath().normalize(), null);
  }

  /**
   * The repository in {@code folder}, made when missing (for publishing into a new one).
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it cannot be made
   */
  public static ModelRepository create(Path folder) {
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "cannot make the model repository " + folder + ": " + e, e);
    }
    return open(folder);
  }

  /**
   * Writes {@code model} into the repository as the next version of the model named {@code name} (1
   * for a new model): copied beside its place, then moved there in one step, so that a worker
   * watching the repository never opens half a file. Publishers racing for a number each get their
   * own.
   *
   * @return the version it was given
   * @throws ConveyorException {@code INVALID_SETTING} for a name that cannot name a model, {@code
   *     UNAVAILABLE} when the file cannot be written
   */
  public long publish(String name, Path model) {
    if (!isModelName(name)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "a model's name is up to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'");
    }
    if (store != null) {
      return store.publish(name, model);
    }
    Path folder = root.resolve(name);
    try {
      Files.createDirectories(folder);
      Path partial = Files.createTempFile(folder, ".publishing-", ".onnx");
      try {
        Files.copy(model, partial, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (long version = newest(folder) + 1; ; version++) {
          Path dir = folder.resolve(Long.toString(version));
          try {
            Files.createDirectory(dir);
          } catch (java.nio.file.FileAlreadyExistsException taken) {
            continue; // another publisher took this number
          }
          Files.move(
              partial, dir.resolve(MODEL_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
          return version;
        }
      } finally {
        Files.deleteIfExists(partial);
      }
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE, "cannot publish into the model repository " + root + ": " + e, e);
    }
  }

  /** The highest version number among the model's folders, whatever they hold; 0 for none. */
  private static long newest(Path folder) {
    long newest = 0;
    for (Path version : list(folder)) {
      String number = version.getFileName().toString();
      if (VERSION.matcher(number).matches()) {
        newest = Math.max(newest, Long.parseLong(number));
      }
    }
    return newest;
  }

  /** Whether {@code name} can name a model: 1 to 64 letters, digits, '.', '_' or '-', not first. */
  public static boolean isModelName(String name) {
    return name != null && NAME.matcher(name).matches() && !name.contains("..");
  }

  /** Whether {@code number} names a version: a whole number from 1. */
  static boolean isVersion(String number) {
    return VERSION.matcher(number).matches();
  }

  /** The repository's folder: for one kept in an object store, its local copy. */
  public Path root() {
    return root;
  }

  /**
   * Its models and their versions as the folder holds them now, models by name.
   *
   * @throws ConveyorException {@code UNAVAILABLE} when the folder cannot be listed
   */
  public RepositoryIndex index() {
    List<RepositoryIndex.Model> models = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Path folder : list(root)) {
      String name = folder.getFileName().toString();
      if (!Files.isDirectory(folder)) {
        continue;
      }
      if (!isModelName(name)) {
        problems.add("'%s' is not a model name: letters, digits, '.', '_' or '-'".formatted(name));
        continue;
      }
      Map<String, String> config = config(folder, name, problems);
      TreeMap<Long, Path> versions = new TreeMap<>();
      for (Path version : list(folder)) {
        String number = version.getFileName().toString();
        if (!Files.isDirectory(version)) {
          continue;
        }
        if (!VERSION.matcher(number).matches()) {
          problems.add("%s/%s: a version is a whole number from 1".formatted(name, number));
          continue;
        }
        Path file = version.resolve(MODEL_FILE);
        if (!Files.isRegularFile(file)) {
          problems.add("%s/%s has no %s".formatted(name, number, MODEL_FILE));
          continue;
        }
        versions.put(Long.parseLong(number), file);
      }
      if (versions.isEmpty()) {
        problems.add("%s has no version with a %s".formatted(name, MODEL_FILE));
        continue;
      }
      List<RepositoryIndex.Version> list = new ArrayList<>();
      versions.forEach((n, file) -> list.add(new RepositoryIndex.Version(n, file)));
      models.add(new RepositoryIndex.Model(name, folder, config, list));
    }
    if (store != null) {
      problems.addAll(store.problems());
    }
    return new RepositoryIndex(models, problems);
  }

  /** The model's config, or nothing when it has none or it cannot be read (a problem then). */
  private static Map<String, String> config(Path folder, String name, List<String> problems) {
    Path file = folder.resolve(CONFIG_FILE);
    if (!Files.exists(file)) {
      return Map.of();
    }
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException | IllegalArgumentException e) {
      problems.add("%s/%s cannot be read: %s".formatted(name, CONFIG_FILE, e.getMessage()));
      return Map.of();
    }
    Map<String, String> config = new LinkedHashMap<>();
    p.stringPropertyNames().stream()
        .sorted()
        .forEach(key -> config.put(key.trim(), p.getProperty(key).trim()));
    return config;
  }

  private static List<Path> list(Path folder) {
    try (Stream<Path> entries = Files.list(folder)) {
      return entries.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE, "cannot list the model repository's " + folder, e);
    }
  }
}
