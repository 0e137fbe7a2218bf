package dev.conveyor.server;

import io.javalin.community.ssl.SslPlugin;
import io.javalin.community.ssl.TlsConfig;

/**
 * HTTPS for the server, through Javalin's SSL plugin: the PEM certificate and key of {@link
 * ServerConfig#tls()}, on the configured address and port, and no plain HTTP beside it. TLS 1.3,
 * and TLS 1.2 with forward-secret AEAD suites only (ECDHE with AES-GCM or ChaCha20-Poly1305); older
 * versions and every other suite are refused. (The plugin's default, Mozilla's "intermediate",
 * lists no TLS 1.3 suite, so it never offered TLS 1.3, and kept DHE.)
 */
final class Https {
  /** The protocols offered, newest first. */
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  /** TLS 1.3's suites, then TLS 1.2's ECDHE with AES-GCM or ChaCha20-Poly1305. */
  static final String[] CIPHER_SUITES = {
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
  };

  private Https() {}

  static SslPlugin plugin(ServerConfig config) {
    return new SslPlugin(
        ssl -> {
          ssl.pemFromPath(config.tls().certificate().toString(), config.tls().key().toString());
          ssl.insecure = false;
          ssl.secure = true;
          ssl.securePort = config.port();
          ssl.host = config.bind();
          ssl.sniHostCheck = false;
          ssl.tlsConfig = new TlsConfig(CIPHER_SUITES.clone(), PROTOCOLS.clone());
        });
  }
}
