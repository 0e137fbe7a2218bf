package dev.conveyor.core.model;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.fetch.ObjectStores;
import dev.conveyor.core.settings.Arguments;
import dev.conveyor.core.settings.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A model repository kept in an object store, copied into a local folder that a {@link
 * ModelRepository} reads: each {@link #pull} fetches the versions and the models' files that are
 * new or changed, and removes what the store no longer holds, so that going back is deleting the
 * newer version in the store. Each file is written beside its place and moved there in one step, so
 * that a reader of the folder never sees half a model. Only names that fit the layout are copied:
 * an object's name is never a path outside the folder.
 */
final class StoreMirror {
  private final ObjectStore store;
  private final String location;
  private final Path folder;
  private List<String> problems = List.of();

  StoreMirror(ObjectStore store, String location, Path folder) {
    this.store = store;
    this.location = location;
    this.folder = folder;
  }

  /**
   * The store at {@code where}, copied into a folder of its own under the system's temporary folder
   * (the same for every process of the host that serves it).
   *
   * @param checkBucket whether to check at once that its bucket is there
   */
  static StoreMirror open(String where, Settings settings, boolean checkBucket) {
    ObjectStore objects = ObjectStores.open(where, settings);
    String location = Arguments.redact(where);
    Path copy =
        Path.of(System.getProperty("java.io.tmpdir"), "conveyor-models", digest(location))
            .toAbsolutePath()
            .normalize();
    try {
      if (checkBucket) {
        objects.checkBucket(false);
      }
      Files.createDirectories(copy);
    } catch (IOException e) {
      objects.close();
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "cannot make the local copy of " + location + " in " + copy,
          e);
    } catch (RuntimeException e) {
      objects.close();
      throw e;
    }
    return new StoreMirror(objects, location, copy);
  }

  private static String digest(String text) {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(text.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  Path folder() {
    return folder;
  }

  /** Closes the store's client. */
  void close() {
    store.close();
  }

  String location() {
    return location;
  }

  /** What the last pull left out, for the index's problems. */
  synchronized List<String> problems() {
    return problems;
  }

  /**
   * Brings the folder up to the store's objects.
   *
   * @throws ConveyorException {@code UNAVAILABLE} when the store cannot be read
   */
  synchronized void pull() {
    List<String> skipped = new ArrayList<>();
    Set<Path> kept = new HashSet<>();
    for (ObjectStore.Stored o : store.list("")) {
      Path local = place(o.name());
      if (local == null) {
        if (!o.name().endsWith("/")) {
          skipped.add(
              "'%s' does not fit NAME/VERSION/%s"
                  .formatted(printable(o.name()), ModelRepository.MODEL_FILE));
        }
        continue;
      }
      kept.add(local);
      kept.add(tagFile(local));
      if (!(Files.isRegularFile(local) && size(local) == o.size() && sameTag(o, local))) {
        fetch(o, local);
      }
    }
    removeAllBut(kept);
    problems = List.copyOf(skipped);
  }

  /**
   * Writes {@code model} as the next version of {@code name} in the store, unless another writer
   * takes that number first, then the one after.
   */
  long publish(String name, Path model) {
    for (int tries = 0; tries < 100; tries++) {
      long newest = 0;
      for (ObjectStore.Stored o : store.list(name + "/")) {
        String[] parts = o.name().split("/", -1);
        if (parts.length == 3 && ModelRepository.isVersion(parts[1])) {
          newest = Math.max(newest, Long.parseLong(parts[1]));
        }
      }
      long version = newest + 1;
      if (store.putNew(name + "/" + version + "/" + ModelRepository.MODEL_FILE, model)) {
        return version;
      }
    }
    throw new ConveyorException(
        ErrorCode.UNAVAILABLE,
        "could not take a version number for "
            + name
            + " in "
            + location
            + ": others kept taking it");
  }

  /** Where an object of the store goes in the folder, or null when it is not the layout's. */
  private Path place(String name) {
    String[] parts = name.split("/", -1);
    if (parts.length < 2 || !ModelRepository.isModelName(parts[0])) {
      return null;
    }
    if (parts.length == 2 && ModelRepository.isModelName(parts[1])) {
      return folder.resolve(parts[0]).resolve(parts[1]); // its config, its labels
    }
    if (parts.length == 3
        && ModelRepository.isVersion(parts[1])
        && parts[2].equals(ModelRepository.MODEL_FILE)) {
      return folder.resolve(parts[0]).resolve(parts[1]).resolve(parts[2]);
    }
    return null;
  }

  /**
   * The file beside a copied object that holds the tag it was copied at, so that an object replaced
   * in the store (by one of the same size) is copied again, by this process or the next.
   */
  private static Path tagFile(Path local) {
    return local.resolveSibling("." + local.getFileName() + ".tag");
  }

  private static boolean sameTag(ObjectStore.Stored o, Path local) {
    if (o.tag() == null) {
      return true;
    }
    try {
      return o.tag().equals(Files.readString(tagFile(local), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return false;
    }
  }

  private void fetch(ObjectStore.Stored o, Path local) {
    try {
      Files.createDirectories(local.getParent());
      Path partial = Files.createTempFile(local.getParent(), ".pulling-", ".part");
      try {
        store.get(o.name(), partial);
        Files.move(
            partial, local, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (o.tag() != null) {
          Files.writeString(tagFile(local), o.tag(), StandardCharsets.UTF_8);
        }
      } finally {
        Files.deleteIfExists(partial);
      }
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE, "cannot write the copy of " + location + " in " + folder, e);
    }
  }

  /** Removes the folder's files that are not {@code kept}, then its folders left empty. */
  private void removeAllBut(Set<Path> kept) {
    try (Stream<Path> all = Files.walk(folder)) {
      List<Path> paths = all.sorted(Comparator.reverseOrder()).toList();
      for (Path p : paths) {
        if (p.equals(folder)) {
          continue;
        }
        if (Files.isDirectory(p)) {
          try (Stream<Path> in = Files.list(p)) {
            if (in.findAny().isEmpty()) {
              Files.deleteIfExists(p);
            }
          }
        } else if (!kept.contains(p) && !p.getFileName().toString().startsWith(".pulling-")) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE, "cannot tidy the copy of " + location + " in " + folder, e);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }

  /** A name from the store, shown without what could disturb a log line. */
  private static String printable(String name) {
    String shown = name.length() > 80 ? name.substring(0, 80) + "…" : name;
    return shown.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
