package dev.conveyor.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Loopback ports for the servers and processes tests start. */
public final class Ports {
  private Ports() {}

  /** A loopback port that nothing listens on now, for a server the test is about to start. */
  public static int free() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether something accepts connections on {@code port} of 127.0.0.1. */
  public static boolean listening(int port) {
    return listening("127.0.0.1", port);
  }

  /** Whether something accepts connections on {@code port} of {@code address}, within 500 ms. */
  public static boolean listening(String address, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Waits until {@code process} accepts connections on {@code port} of 127.0.0.1. False when it
   * does not within {@code timeout}, or stops first.
   */
  public static boolean awaitListening(Process process, int port, Duration timeout)
      throws InterruptedException {
    return awaitListening(process, "127.0.0.1", port, timeout);
  }

  /**
   * Waits until {@code process} accepts connections on {@code port} of {@code address} (a test
   * host's, say). False when it does not within {@code timeout}, or stops first.
   */
  public static boolean awaitListening(Process process, String address, int port, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!listening(address, port)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }
}
