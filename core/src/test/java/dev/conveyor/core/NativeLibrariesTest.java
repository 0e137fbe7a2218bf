package dev.conveyor.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {
  /** A file inside a jar on the test classpath, standing in for a native library. */
  private static final String FOLDER = "org/junit/jupiter/api";

  private static final List<String> FILES = List.of("Test.class", "Timeout.class");

  @TempDir Path root;

  @Test
  void unpacksOnceIntoAFolderNamedAfterTheEntriesAndReusesIt() throws Exception {
    Path dir = NativeLibraries.unpackInto(root, "lib", FOLDER, FILES).orElseThrow();
    assertThat(dir.getParent()).isEqualTo(root);
    assertThat(dir.getFileName().toString()).matches("lib-[0-9a-f]+");
    for (String name : FILES) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(FOLDER + "/" + name)) {
        assertThat(Files.readAllBytes(dir.resolve(name))).isEqualTo(in.readAllBytes());
      }
    }
    FileTime old = FileTime.fromMillis(1_000_000_000L);
    Files.setLastModifiedTime(dir.resolve("Test.class"), old);

    assertThat(NativeLibraries.unpackInto(root, "lib", FOLDER, FILES)).contains(dir);
    assertThat(Files.getLastModifiedTime(dir.resolve("Test.class")))
        .as("not written again")
        .isEqualTo(old);
    assertThat(NativeLibraries.unpackInto(root, "lib", FOLDER, List.of("Test.class")))
        .as("another set of files, another folder")
        .get()
        .isNotEqualTo(dir);
  }

  @Test
  void aFileLeftHalfWrittenIsWrittenAgain() throws Exception {
    Path dir = NativeLibraries.unpackInto(root, "lib", FOLDER, FILES).orElseThrow();
    long size = Files.size(dir.resolve("Test.class"));
    Files.write(dir.resolve("Test.class"), new byte[10]);
    NativeLibraries.unpackInto(root, "lib", FOLDER, FILES);
    assertThat(Files.size(dir.resolve("Test.class"))).isEqualTo(size);
  }

  @Test
  void jvmsUnpackingAtOnceEachGetWholeFilesAndLeaveNoPartsBehind() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Optional<Path>>> runs = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        runs.add(pool.submit(() -> NativeLibraries.unpackInto(root, "lib", FOLDER, FILES)));
      }
      Path dir = runs.get(0).get().orElseThrow();
      for (Future<Optional<Path>> run : runs) {
        assertThat(run.get()).contains(dir);
      }
      try (var files = Files.list(dir)) {
        assertThat(files.map(f -> f.getFileName().toString()).sorted().toList())
            .containsExactly("Test.class", "Timeout.class");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aPlatformWithoutTheLibraryFallsBackToTheLibrarysOwnLoader() {
    assertThat(NativeLibraries.unpackInto(root, "lib", FOLDER, List.of("NoSuchLibrary.so")))
        .isEmpty();
  }

  @Test
  void aSharedTemporaryFolderIsUsedOnlyWhenItIsTheUsersOwnAndClosedToOthers() throws Exception {
    Path mine = root.resolve("conveyor-native-me");
    assertThat(NativeLibraries.usable(mine, true)).as("made, owner only").contains(mine);
    assertThat(Files.getPosixFilePermissions(mine))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));

    Path open = Files.createDirectory(root.resolve("conveyor-native-open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThat(NativeLibraries.usable(open, true)).as("others may write in it").isEmpty();

    Path link = Files.createSymbolicLink(root.resolve("conveyor-native-link"), mine);
    assertThat(NativeLibraries.usable(link, true)).as("a link, to anywhere").isEmpty();
  }
}
