package dev.conveyor.server;

import io.javalin.community.ssl.SslPlugin;

/**
 * HTTPS for the server, through Javalin's SSL plugin: the PEM certificate and key of {@link
 * ServerConfig#tls()}, on the configured address and port, and no plain HTTP beside it.
 */
final class Https {
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
        });
  }
}
