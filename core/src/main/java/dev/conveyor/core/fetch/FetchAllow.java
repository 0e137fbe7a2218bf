package dev.conveyor.core.fetch;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a request may name to be fetched by reference: the operator's list, and nothing else. A
 * request that comes through a broker or over HTTP is untrusted; its reference is fetched only when
 * a rule here allows it:
 *
 * <ul>
 *   <li>{@code s3://} any object of the store the worker's credentials reach; {@code s3://bucket}
 *       that bucket; {@code s3://bucket/prefix} the keys that start with the prefix. Any other
 *       scheme a fetcher module provides is written the same way.
 *   <li>{@code file:/srv/images} regular files under that folder: the reference's real path, after
 *       every link is followed, must lie under the folder's, and be a regular file (no device, FIFO
 *       or folder).
 * </ul>
 *
 * A reference that is not allowed, does not exist or cannot be read gets one answer, {@link
 * #denied()} ({@code NOT_FOUND}, as a web server answers 404 for what a caller may not see), which
 * says nothing of the file or object: neither its bytes, nor its size, nor its type, nor whether it
 * exists.
 */
public final class FetchAllow {
  /** The one message of a reference that is refused, missing or unreadable. */
  public static final String DENIED_MESSAGE =
      "the reference is not allowed on this worker, does not exist, or cannot be read";

  /** Nothing: no reference is fetched. */
  public static final FetchAllow NONE = new FetchAllow(List.of(), List.of());

  /** A store rule: {@code scheme://bucket/prefix}, an empty bucket meaning any. */
  private record StoreRule(String scheme, String bucket, String prefix) {
    boolean allows(String scheme, String bucket, String key) {
      return this.scheme.equals(scheme)
          && (this.bucket.isEmpty() || this.bucket.equals(bucket))
          && key.startsWith(prefix);
    }

    @Override
    public String toString() {
      return scheme + "://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }
  }

  private final List<StoreRule> stores;
  private final List<Path> roots;

  private FetchAllow(List<StoreRule> stores, List<Path> roots) {
    this.stores = List.copyOf(stores);
    this.roots = List.copyOf(roots);
  }

  /**
   * Reads a comma-separated list of rules; {@code none} (or nothing) allows nothing.
   *
   * @throws IllegalArgumentException for a rule that is neither {@code scheme://…} nor {@code
   *     file:/absolute/folder}
   */
  public static FetchAllow parse(String text) {
    List<StoreRule> stores = new ArrayList<>();
    List<Path> roots = new ArrayList<>();
    for (String raw : text.split(",")) {
      String rule = raw.trim();
      if (rule.isEmpty() || rule.equalsIgnoreCase("none")) {
        continue;
      }
      if (rule.startsWith("file:")) {
        roots.add(root(rule));
        continue;
      }
      int sep = rule.indexOf("://");
      if (sep <= 0 || !rule.substring(0, sep).matches("[a-zA-Z][a-zA-Z0-9+.-]*")) {
        throw new IllegalArgumentException("not a rule: " + rule);
      }
      String scheme = rule.substring(0, sep).toLowerCase(Locale.ROOT);
      String rest = rule.substring(sep + 3);
      int slash = rest.indexOf('/');
      String bucket = slash < 0 ? rest : rest.substring(0, slash);
      String prefix = slash < 0 ? "" : rest.substring(slash + 1);
      if (bucket.isEmpty() && !prefix.isEmpty()) {
        throw new IllegalArgumentException("a prefix needs its bucket: " + rule);
      }
      stores.add(new StoreRule(scheme, bucket, prefix));
    }
    return new FetchAllow(stores, roots);
  }

  private static Path root(String rule) {
    String path = rule.startsWith("file://") ? rule.substring(7) : rule.substring(5);
    Path p = Path.of(path);
    if (!p.isAbsolute()) {
      throw new IllegalArgumentException("a file rule names an absolute folder: " + rule);
    }
    return p.normalize();
  }

  /**
   * These rules, and also the files and folders the operator named on a command line: each file
   * itself, and the regular files under each folder.
   */
  public FetchAllow withFiles(List<Path> paths) {
    List<Path> all = new ArrayList<>(roots);
    for (Path p : paths) {
      all.add(p.toAbsolutePath().normalize());
    }
    return new FetchAllow(stores, all);
  }

  /** Whether a reference of this store may be fetched. */
  public boolean allowsStore(String scheme, String bucket, String key) {
    for (StoreRule r : stores) {
      if (r.allows(scheme, bucket, key)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any local folder is allowed. */
  public boolean allowsFiles() {
    return !roots.isEmpty();
  }

  /**
   * The real path of a local file that the rules allow: under one of the folders after every link
   * is followed, and a regular file.
   *
   * @throws ConveyorException {@link #denied()} otherwise, whatever the reason
   */
  public Path confine(String path) {
    if (roots.isEmpty() || path.isEmpty() || path.indexOf('\0') >= 0) {
      throw denied();
    }
    try {
      Path real = Path.of(path).toAbsolutePath().toRealPath();
      for (Path root : roots) {
        Path realRoot;
        try {
          realRoot = root.toRealPath();
        } catch (IOException e) {
          continue; // a folder that is not there allows nothing
        }
        if (real.startsWith(realRoot)
            && Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .isRegularFile()) {
          return real;
        }
      }
    } catch (IOException | InvalidPathException | SecurityException e) {
      // missing, unreadable or malformed: the same answer as not allowed
    }
    throw denied();
  }

  /** The one error of a reference that is not allowed, missing or unreadable. */
  public static ConveyorException denied() {
    return new ConveyorException(ErrorCode.NOT_FOUND, DENIED_MESSAGE);
  }

  @Override
  public String toString() {
    if (stores.isEmpty() && roots.isEmpty()) {
      return "none";
    }
    List<String> all = new ArrayList<>();
    stores.forEach(s -> all.add(s.toString()));
    roots.forEach(r -> all.add("file:" + r));
    return all.stream().collect(Collectors.joining(","));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FetchAllow other
        && stores.equals(other.stores)
        && roots.equals(other.roots);
  }

  @Override
  public int hashCode() {
    return Objects.hash(stores, roots);
  }
}
