package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.TestTls;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve --tls-cert --tls-key}: HTTPS only, checked by a real TLS client. */
@Timeout(60)
class HttpsTest {
  private final List<AutoCloseable> open = new ArrayList<>();
  @TempDir Path dir;
  private TestTls tls;

  @BeforeEach
  void writeCertificate() {
    tls = TestTls.write(dir);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** A client that trusts only the test certificate, and checks the host name against it. */
  private HttpClient trusting() {
    return HttpClient.newBuilder().sslContext(tls.trustingContext()).build();
  }

  @Test
  void theApiIsServedOverHttpsOnlyWithTheGivenCertificate() throws Exception {
    ServerConfig config =
        ServerSettings.defaults()
            .withToken("tls-token")
            .withTls(new ServerConfig.Tls(tls.certificate(), tls.key()));
    ConveyorServer s =
        TestServers.embedded(config, new MeanColourClassifier(32, 32), 8, null, open);
    assertThat(s.port()).isPositive();
    HttpClient client = trusting();
    HttpRequest predict =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + s.port() + "/v1/classify"))
            .header("Content-Type", "image/png")
            .header("Authorization", "Bearer tls-token")
            .POST(HttpRequest.BodyPublishers.ofByteArray(TestImages.bytes("palette-blue.png")))
            .build();
    HttpResponse<String> r = client.send(predict, HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"label\":\"blue\"");
    assertThat(r.sslSession()).isPresent();

    HttpResponse<String> noToken =
        client.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + s.port() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(noToken.statusCode()).as("the token still holds over HTTPS").isEqualTo(401);

    // a client that does not trust the certificate refuses the server
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(
                                URI.create("https://127.0.0.1:" + s.port() + "/v1/info"))
                            .build(),
                        HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(SSLHandshakeException.class);
    // and plain HTTP gets no answer on the port
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + s.port() + "/v1/info"))
                            .build(),
                        HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);
  }
}
