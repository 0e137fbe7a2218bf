package dev.conveyor.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The test certificate (self-signed, for 127.0.0.1 and localhost) and its unencrypted PKCS#8 key,
 * written as files for the servers the tests start: the certificate is also the clients' CA.
 *
 * @param certificate the PEM certificate
 * @param key the PEM private key
 */
public record TestTls(Path certificate, Path key) {
  /** Writes the certificate and key into {@code dir}. */
  public static TestTls write(Path dir) {
    try {
      Files.createDirectories(dir);
      return new TestTls(copy("cert.pem", dir), copy("key.pem", dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path copy(String name, Path dir) throws IOException {
    Path out = dir.resolve(name);
    try (InputStream in = TestTls.class.getResourceAsStream("/tls/" + name)) {
      if (in == null) {
        throw new IOException("no /tls/" + name + " on the test class path");
      }
      Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
    }
    return out;
  }

  /** The key then the certificate in one file, as Kafka's PEM keystore location takes them. */
  public Path bundle(Path dir) {
    try {
      Path out = dir.resolve("bundle.pem");
      Files.writeString(out, Files.readString(key) + Files.readString(certificate));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A TLS context that trusts only this certificate. */
  public SSLContext trustingContext() {
    try {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      try (InputStream in = Files.newInputStream(certificate)) {
        trusted.setCertificateEntry(
            "conveyor-test", CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
