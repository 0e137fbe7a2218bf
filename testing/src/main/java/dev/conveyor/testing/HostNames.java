package dev.conveyor.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Names that resolve at once on {@link Hosts}, from files, as a real network's DNS would: each
 * host's own {@code /etc/hosts} (every host by name, {@code gateway}, and the machine's name for
 * the host's own address) and a {@code resolv.conf} that asks no server, both under {@code
 * /etc/netns/NAMESPACE}, where {@code ip netns exec} puts them in place. The machine's nameserver
 * is not reachable from a host, and each lookup sent there would wait 10 s for nothing: Flink's
 * JobManager, for one, looks up every TaskManager's address, and its heartbeats time out meanwhile.
 */
final class HostNames {
  private static final Path NETNS_ETC = Path.of("/etc/netns");
  private static final List<String> FILES = List.of("hosts", "resolv.conf");

  private HostNames() {}

  /** Writes the files of every host in {@code hosts}. */
  static void write(List<Hosts.Host> hosts, String gateway) throws IOException {
    String machine = InetAddress.getLocalHost().getHostName();
    StringBuilder all = new StringBuilder("127.0.0.1 localhost\n" + gateway + " gateway\n");
    for (Hosts.Host h : hosts) {
      all.append(h.address()).append(' ').append(h.name()).append('\n');
    }
    for (Hosts.Host h : hosts) {
      Path etc = Files.createDirectories(NETNS_ETC.resolve(h.namespace()));
      Files.writeString(etc.resolve("hosts"), all + h.address() + " " + machine + "\n");
      Files.writeString(
          etc.resolve("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
    }
  }

  /** Deletes a namespace's files, if it has any. */
  static void remove(String namespace) throws IOException {
    Path etc = NETNS_ETC.resolve(namespace);
    for (String f : FILES) {
      Files.deleteIfExists(etc.resolve(f));
    }
    Files.deleteIfExists(etc);
  }
}
