package dev.conveyor.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;

/**
 * Native libraries bundled in jars, unpacked once into a cache that every JVM of the same user
 * shares, instead of into a new temporary folder per JVM. The libraries' own loaders unpack 85 MB
 * into {@code /tmp} at each start and delete it only at a clean exit, so a worker killed or started
 * again by a supervisor leaves that behind each time, until the disk is full.
 *
 * <p>The cache is {@code $CONVEYOR_NATIVE_DIR}, else {@code $XDG_CACHE_HOME/conveyor/native}, else
 * {@code ~/.cache/conveyor/native}; when none of these can be written (a read-only home in a
 * container), a folder of the user's own in the temporary folder, readable by the user only. A set
 * of libraries lives in a folder named after the checksums of its entries in the jar, so a new
 * version gets a folder of its own and a JVM never loads another version's files. Files are written
 * under a temporary name and renamed into place, so JVMs starting at once never see half a file.
 *
 * <p>A JVM loads a native library file into one class loader only. The cache serves the
 * application's own class loader (Conveyor's commands, a Spark or Flink process started with
 * Conveyor on its class path); another (Flink gives each job, and each restart of a job, a class
 * loader of its own) is answered empty, to load copies of its own with the library's own loader.
 */
public final class NativeLibraries {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private NativeLibraries() {}

  /**
   * Unpacks the classpath resources {@code names} under {@code folder} into one cache folder, named
   * {@code prefix} and a checksum of them all, and answers it; empty when a resource is missing
   * (this platform has no bundled library) or no cache folder can be written, so that the caller
   * falls back to the library's own loader.
   */
  public static Optional<Path> unpack(String prefix, String folder, List<String> names) {
    ClassLoader loader = NativeLibraries.class.getClassLoader();
    if (loader != ClassLoader.getSystemClassLoader()) {
      // a class loader of an engine's job (Flink's, Spark's --jars): made and dropped as jobs come
      // and go, in processes that outlive them; the libraries' own loaders serve them, as before
      return Optional.empty();
    }
    synchronized (jvmLock()) {
      return root().flatMap(root -> unpackInto(root, prefix, folder, names));
    }
  }

  /**
   * One lock for the whole JVM, whichever class loader loaded this class: held from the choice of
   * files to their loading, so that no other class loader's ONNX Runtime reads the property that
   * points at them meanwhile. Not the system properties' own monitor, which other code holds while
   * it initializes classes.
   */
  public static Object jvmLock() {
    // a string constant is one object in the whole JVM, whichever class loader's class names it;
    // nothing else locks it, so a class initializer run under it cannot wait on another thread
    return JVM_LOCK;
  }

  private static final String JVM_LOCK = "dev.conveyor.core.NativeLibraries: loading";

  static Optional<Path> unpackInto(Path root, String prefix, String folder, List<String> names) {
    ClassLoader loader = NativeLibraries.class.getClassLoader();
    URL[] urls = new URL[names.size()];
    long[] sizes = new long[names.size()];
    CRC32 key = new CRC32();
    try {
      for (int i = 0; i < urls.length; i++) {
        urls[i] = loader.getResource(folder + "/" + names.get(i));
        if (urls[i] == null) {
          return Optional.empty();
        }
        URLConnection connection = urls[i].openConnection();
        connection.setUseCaches(false);
        sizes[i] = connection.getContentLengthLong();
        key.update(names.get(i).getBytes(StandardCharsets.UTF_8));
        key.update(longBytes(identity(connection, sizes[i])));
      }
      Path dir = root.resolve(prefix + "-" + Long.toHexString(key.getValue()));
      Files.createDirectories(dir);
      for (int i = 0; i < urls.length; i++) {
        Path file = dir.resolve(names.get(i));
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != sizes[i]) {
          write(urls[i], file);
        }
      }
      return Optional.of(dir);
    } catch (IOException | UncheckedIOException | SecurityException e) {
      return Optional.empty();
    }
  }

  /** The entry's checksum in its jar, or its size and time for a resource outside a jar. */
  private static long identity(URLConnection connection, long size) throws IOException {
    if (connection instanceof JarURLConnection jar) {
      JarEntry entry = jar.getJarEntry();
      if (entry != null && entry.getCrc() != -1) {
        return entry.getCrc() ^ (size << 32);
      }
    }
    return connection.getLastModified() * 31 + size;
  }

  private static void write(URL url, Path file) throws IOException {
    Path part = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".part");
    try {
      try (InputStream in = url.openStream()) {
        Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /** The cache's root, made if missing; empty when none can be written. */
  static Optional<Path> root() {
    String explicit = System.getenv("CONVEYOR_NATIVE_DIR");
    if (explicit != null && !explicit.isBlank()) {
      return usable(Path.of(explicit), false);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    String home = System.getProperty("user.home");
    Optional<Path> cache = Optional.empty();
    if (xdg != null && xdg.startsWith("/")) {
      cache = usable(Path.of(xdg, "conveyor", "native"), false);
    } else if (home != null && !home.isBlank() && !"?".equals(home)) {
      cache = usable(Path.of(home, ".cache", "conveyor", "native"), false);
    }
    if (cache.isPresent()) {
      return cache;
    }
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "conveyor-native-" + user);
    return usable(tmp.toAbsolutePath(), true);
  }

  /**
   * The folder, made if missing, when this user can write it. A folder in a shared temporary folder
   * must be the user's own and closed to others: anyone could have made it first and put libraries
   * in it for this user to load.
   */
  static Optional<Path> usable(Path dir, boolean shared) {
    try {
      if (shared) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
          try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
          } catch (FileAlreadyExistsException raced) {
            // made by another JVM of this user, or by someone else: checked below
          }
        }
        String self = System.getProperty("user.name");
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
            || !Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName().equals(self)
            || !Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
          return Optional.empty();
        }
      } else {
        Files.createDirectories(dir);
      }
      return Files.isWritable(dir) ? Optional.of(dir) : Optional.empty();
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return Optional.empty();
    }
  }

  private static byte[] longBytes(long value) {
    byte[] bytes = new byte[8];
    for (int i = 0; i < 8; i++) {
      bytes[i] = (byte) (value >>> (8 * i));
    }
    return bytes;
  }
}
