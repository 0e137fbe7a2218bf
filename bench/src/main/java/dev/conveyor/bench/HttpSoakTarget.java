package dev.conveyor.bench;

import dev.conveyor.core.ImageRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * POSTs each image of a soak to the server, at most {@code connections} at once; 200 is an answer,
 * 429 a refusal, anything else a failure. Sends {@code CONVEYOR_TOKEN} as the bearer token when
 * set. It also reads a server's resident memory from its metrics.
 */
final class HttpSoakTarget implements SoakTarget {
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final URI uri;
  private final Semaphore connections;
  private final String token = System.getenv("CONVEYOR_TOKEN");

  HttpSoakTarget(URI uri, int connections) {
    this.uri = uri;
    this.connections = new Semaphore(connections);
  }

  @Override
  public boolean http() {
    return true;
  }

  private HttpRequest.Builder request(URI to) {
    HttpRequest.Builder b = HttpRequest.newBuilder(to).timeout(Duration.ofSeconds(60));
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token.trim());
    }
    return b;
  }

  @Override
  public void send(ImageRequest r, SoakOutcomes outcome) throws InterruptedException {
    HttpRequest post =
        request(uri)
            .header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(r.bytes()))
            .build();
    connections.acquire();
    outcome.waiting.put(r.id(), r.enqueuedNanos());
    client
        .sendAsync(post, HttpResponse.BodyHandlers.discarding())
        .whenComplete(
            (response, failure) -> {
              connections.release();
              int status = response == null ? 0 : response.statusCode();
              if (status == 429) {
                outcome.waiting.remove(r.id());
                outcome.refused.increment();
              } else {
                outcome.accepted.increment();
                // an answer, good or bad; no answer at all (a failure) is a failure too
                outcome.answered(r.id(), status == 200);
              }
            });
  }

  /** The server's {@code process_resident_memory_bytes}, from its metrics, in kB. */
  long residentKb(URI metrics) {
    try {
      String text =
          client.send(request(metrics).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
      for (String line : text.split("\n")) {
        if (line.startsWith("process_resident_memory_bytes ")) {
          return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim()) >> 10;
        }
      }
    } catch (IOException | RuntimeException e) {
      // no figure this time
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
