package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} with a small heap under many concurrent uploads of the largest size allowed: the
 * bytes held at once stay within a budget, what would pass it is answered busy, and the server
 * lives on to serve the next caller.
 */
@Timeout(180)
class UploadLimitsIT {
  private static final int MAX = 20 << 20;

  @TempDir Path dir;

  @Test
  void manyMaximumSizeUploadsAtOnceCannotExhaustASmallHeap() throws Exception {
    Path root = Path.of(System.getProperty("conveyor.home"));
    try (ServeProcess serve =
        ServeProcess.start(root, dir, Map.of("CONVEYOR_JAVA_OPTS", "-Xmx128m"))) {
      byte[] largest = new byte[MAX];
      largest[0] = (byte) 0xFF;
      largest[1] = (byte) 0xD8; // a JPEG's start, and nothing a decoder can read after it
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        HttpRequest.BodyPublisher body =
            i % 2 == 0
                ? HttpRequest.BodyPublishers.ofByteArray(largest)
                : HttpRequest.BodyPublishers.ofInputStream( // in chunks, with no length
                    () -> new java.io.ByteArrayInputStream(largest));
        calls.add(
            serve.http.sendAsync(
                HttpRequest.newBuilder(URI.create(serve.base + "/v1/classify"))
                    .header("Content-Type", "image/jpeg")
                    .POST(body)
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
      }
      int busy = 0;
      int read = 0;
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        HttpResponse<String> r = call.join();
        assertThat(r.statusCode()).as(r.body()).isLessThan(500).isNotEqualTo(200);
        if (r.statusCode() == 429) {
          busy++;
          assertThat(r.headers().firstValue("Retry-After")).isPresent();
        } else {
          read++;
          assertThat(r.body()).as("an unreadable image, not a failed server").contains("CORRUPT");
        }
      }
      System.out.printf("24 uploads of 20 MiB on -Xmx128m: %d read, %d busy%n", read, busy);
      assertThat(busy).as("uploads past the memory budget answered busy").isPositive();
      assertThat(read).as("uploads within the budget read and answered").isPositive();
      assertThat(serve.process.isAlive()).isTrue();
      assertThat(Files.readString(serve.err)).doesNotContain("OutOfMemoryError");

      // the budget was given back: the next caller is served
      HttpResponse<String> ok =
          serve.http.send(
              serve.post("/v1/classify", "image/png", TestImages.bytes("palette-blue.png")),
              HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    }
  }
}
