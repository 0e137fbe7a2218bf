package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fuzz.FuzzRuns;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.http.Part;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Collection;
import org.eclipse.jetty.server.MultiPartFormInputStream;
import org.junit.jupiter.api.AfterAll;

/**
 * Multipart uploads under a coverage-guided fuzzer: bodies in the form's shape (boundaries, part
 * headers, contents, cut anywhere) or any bytes, read by Jetty's parser with the limits {@code
 * serve} sets, through {@link Uploads#parsed}. Each is parts within the limits, or {@code
 * BAD_REQUEST}/{@code TOO_LARGE}; never another exception (a 500), an error or a part over the
 * limit.
 */
class MultipartFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(MultipartFuzzTest.class);
  private static final long MAX = 4096;
  private static final File TMP;

  static {
    try {
      TMP = Files.createTempDirectory("conveyor-multipart-fuzz").toFile();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final String[] HEADERS = {
    "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"",
    "Content-Disposition: form-data; name=\"x\"",
    "Content-Disposition: attachment",
    "Content-Type: image/png",
    "Content-Transfer-Encoding: base64",
    ""
  };

  @FuzzTest(maxDuration = "10s")
  void parse(FuzzedDataProvider data) {
    RUNS.ran();
    String boundary = data.consumeBoolean() ? "conveyor-b" : data.consumeString(16);
    // Javalin parses a body as multipart when its type says so; what follows is anything
    String contentType =
        (data.consumeBoolean() ? "multipart/form-data" : "Multipart/Form-Data")
            + (data.consumeBoolean() ? "; boundary=" + boundary : data.consumeString(60));
    byte[] body = data.consumeBoolean() ? form(data, boundary) : data.consumeRemainingAsBytes();
    MultiPartFormInputStream[] in = new MultiPartFormInputStream[1];
    try {
      Collection<Part> parts =
          Uploads.parsed(
              () -> {
                try {
                  // as the request's getParts() does it: made and read in the one call
                  in[0] =
                      new MultiPartFormInputStream(
                          new ByteArrayInputStream(body),
                          contentType,
                          new MultipartConfigElement(TMP.getPath(), MAX, MAX, 1024),
                          TMP);
                  return in[0].getParts();
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              MAX);
      long total = 0;
      for (Part p : parts) {
        try (InputStream content = p.getInputStream()) {
          total += content.readAllBytes().length;
        }
      }
      assertThat(total).as("bytes read within the limit").isLessThanOrEqualTo(MAX);
    } catch (ConveyorException e) {
      assertThat(e.code()).isIn(ErrorCode.BAD_REQUEST, ErrorCode.TOO_LARGE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      try {
        if (in[0] != null) {
          in[0].deleteParts();
        }
      } catch (RuntimeException ignored) {
        // nothing was written
      }
    }
  }

  /** A body in the form's shape, every piece chosen by the fuzzer, and possibly cut short. */
  private static byte[] form(FuzzedDataProvider data, String boundary) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = data.consumeInt(0, 3); i > 0; i--) {
      out.writeBytes(("--" + boundary + "\r\n").getBytes(StandardCharsets.UTF_8));
      for (int h = data.consumeInt(0, 3); h > 0; h--) {
        String header = data.consumeBoolean() ? data.pickValue(HEADERS) : data.consumeString(40);
        out.writeBytes((header + "\r\n").getBytes(StandardCharsets.UTF_8));
      }
      out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
      out.writeBytes(data.consumeBytes(data.consumeInt(0, 6000)));
      out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    if (data.consumeBoolean()) {
      out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    }
    byte[] all = out.toByteArray();
    int cut = data.consumeInt(0, all.length);
    return data.consumeBoolean() ? java.util.Arrays.copyOf(all, cut) : all;
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
