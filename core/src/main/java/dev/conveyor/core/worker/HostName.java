package dev.conveyor.core.worker;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** This machine's host name, as results report it. */
public final class HostName {
  private static final String NAME = lookup();

  private HostName() {}

  public static String get() {
    return NAME;
  }

  private static String lookup() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
