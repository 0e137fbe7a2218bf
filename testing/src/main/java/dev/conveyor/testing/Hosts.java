package dev.conveyor.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Hosts on one machine for tests: each a Linux network namespace with its own address, joined to
 * the others by a bridge in the machine's own namespace, which holds the bridge's address (the
 * "gateway": servers the tests start there are reached on it). A host is cut off by taking its link
 * down, and healed by bringing it up. Needs root (tests and CI run as root) and {@code ip};
 * everything made is deleted on {@link #close}, and any made by an earlier run that died is deleted
 * when the next one starts. The addresses are in 10.231.0.0/16, the project's own test hosts.
 */
public final class Hosts implements AutoCloseable {
  private static final Path IP = Path.of("/usr/sbin/ip");
  private static final Path IPTABLES = Path.of("/usr/sbin/iptables");
  private static final String PREFIX = "cvh";

  /** The bridges of this JVM's hosts still open: not leftovers, though they may hold no process. */
  private static final java.util.Set<String> OPEN = new java.util.HashSet<>();

  private final String name;
  private final int subnet;
  private final List<Host> hosts = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();

  /** One host: its name, its namespace, its address, and the link that cuts it off. */
  public final class Host {
    private final String name;
    private final String namespace;
    private final String link;
    private final String address;

    private Host(String name, String namespace, String link, String address) {
      this.name = name;
      this.namespace = namespace;
      this.link = link;
      this.address = address;
    }

    /** The host's name, {@code host1} and on: what a worker started on it reports in results. */
    public String name() {
      return name;
    }

    /** The host's address, as others reach it. */
    public String address() {
      return address;
    }

    /** The namespace's name, for {@code ip netns exec}. */
    public String namespace() {
      return namespace;
    }

    /**
     * Starts {@code command} on this host, its output and errors appended to {@code log}, with
     * {@code HOSTNAME} set to the host's {@link #name}; {@link Hosts#close} stops it if it is still
     * running.
     */
    public Process start(List<String> command, Path log) throws IOException {
      List<String> all = new ArrayList<>(List.of(IP.toString(), "netns", "exec", namespace));
      all.addAll(command);
      ProcessBuilder builder =
          new ProcessBuilder(all)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().put("HOSTNAME", name);
      Process p = builder.start();
      synchronized (processes) {
        processes.add(p);
      }
      return p;
    }

    /** Cuts the host off from every other: its link goes down. */
    public void cut() throws IOException, InterruptedException {
      ip("link", "set", link, "down");
    }

    /** Joins the host to the others again. */
    public void heal() throws IOException, InterruptedException {
      ip("link", "set", link, "up");
    }

    /**
     * Cuts the host off silently, as a fault in the middle of a network does: every packet that
     * reaches it is dropped (iptables), so its peers' sends meet silence and TCP's backoff, where
     * {@link #cut} fails their sends at once. {@code false} lets packets in again.
     */
    public void dropIncoming(boolean drop) throws IOException, InterruptedException {
      Requirements.executable(IPTABLES, "apt-get install iptables");
      String rule = drop ? "-I" : "-D";
      run(
          List.of(
              IP.toString(),
              "netns",
              "exec",
              namespace,
              IPTABLES.toString(),
              rule,
              "INPUT",
              "-j",
              "DROP"));
    }
  }

  private Hosts(String name, int subnet) {
    this.name = name;
    this.subnet = subnet;
  }

  /** Makes {@code n} hosts on a bridge of their own; tests running at once each make their own. */
  public static Hosts create(int n) throws IOException, InterruptedException {
    Requirements.executable(IP, "apt-get install iproute2");
    synchronized (OPEN) {
      return createAlone(n);
    }
  }

  private static Hosts createAlone(int n) throws IOException, InterruptedException {
    removeLeftovers();
    List<String> bridges = run(List.of(IP.toString(), "-o", "link", "show", "type", "bridge"));
    int id = ThreadLocalRandom.current().nextInt(1, 250);
    while (taken(bridges, id)) {
      id = ThreadLocalRandom.current().nextInt(1, 250);
    }
    Hosts h = new Hosts(PREFIX + id, id);
    OPEN.add(h.name);
    try {
      h.ip("link", "add", h.bridge(), "type", "bridge");
      h.ip("addr", "add", h.gateway() + "/24", "dev", h.bridge());
      h.ip("link", "set", h.bridge(), "up");
      for (int i = 1; i <= n; i++) {
        h.add(i);
      }
      HostNames.write(h.all(), h.gateway());
    } catch (IOException | InterruptedException | RuntimeException e) {
      h.close();
      throw e;
    }
    return h;
  }

  private void add(int i) throws IOException, InterruptedException {
    String ns = name + "h" + i;
    String outside = name + "v" + i;
    String inside = name + "i" + i;
    String address = "10.231." + subnet + "." + (10 + i);
    ip("netns", "add", ns);
    hosts.add(new Host("host" + i, ns, outside, address));
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", ns);
    ip("link", "set", outside, "master", bridge());
    ip("link", "set", outside, "up");
    ip("-n", ns, "addr", "add", address + "/24", "dev", inside);
    ip("-n", ns, "link", "set", inside, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "route", "add", "default", "via", gateway());
  }

  /**
   * An empty folder for the logs of processes on hosts, {@code target/host-logs/NAMES…}: kept after
   * the run, for reading after a failure.
   */
  public static Path logFolder(String... names) throws IOException {
    Path folder =
        Files.createDirectories(Path.of("target", "host-logs").resolve(String.join("/", names)));
    try (var old = Files.walk(folder)) {
      for (Path f : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (!f.equals(folder)) {
          Files.delete(f);
        }
      }
    }
    return folder;
  }

  /** The hosts, from the first. */
  public List<Host> all() {
    return List.copyOf(hosts);
  }

  /** Host {@code i}, from 1. */
  public Host host(int i) {
    return hosts.get(i - 1);
  }

  /** The bridge's address in the machine's own namespace, where servers started there listen. */
  public String gateway() {
    return "10.231." + subnet + ".1";
  }

  private String bridge() {
    return name + "br";
  }

  /**
   * Cuts the machine's own namespace, and the servers in it, off from every host: the bridge's
   * address goes away until {@link #healGateway}.
   */
  public void cutGateway() throws IOException, InterruptedException {
    ip("addr", "del", gateway() + "/24", "dev", bridge());
  }

  /** Gives the bridge its address back. */
  public void healGateway() throws IOException, InterruptedException {
    ip("addr", "add", gateway() + "/24", "dev", bridge());
    for (Host h : hosts) {
      ip("-n", h.namespace, "route", "replace", "default", "via", gateway());
    }
  }

  @Override
  public void close() {
    synchronized (processes) {
      for (Process p : processes) {
        try {
          TestProcesses.stop(p, Duration.ofSeconds(5));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    for (Host h : hosts) {
      quietly("netns", "del", h.namespace);
      try {
        HostNames.remove(h.namespace);
      } catch (IOException e) {
        // left for the next run's removeLeftovers
      }
    }
    quietly("link", "del", bridge());
    synchronized (OPEN) {
      OPEN.remove(name);
    }
  }

  /** Deletes namespaces and bridges left by a run that was killed before it could. */
  private static void removeLeftovers() throws IOException, InterruptedException {
    for (String line : run(List.of(IP.toString(), "netns", "list"))) {
      String ns = line.split(" ")[0];
      if (ns.matches(PREFIX + "\\d+h\\d+")
          && !OPEN.contains(ns.substring(0, ns.lastIndexOf('h')))
          && !ownedByLiveRun(ns)) {
        run(List.of(IP.toString(), "netns", "del", ns));
        HostNames.remove(ns);
      }
    }
    for (String line : run(List.of(IP.toString(), "-o", "link", "show", "type", "bridge"))) {
      String[] fields = line.split(":\\s+");
      String bridge = fields.length > 1 ? fields[1].split("@")[0] : "";
      if (bridge.matches(PREFIX + "\\d+br")
          && !OPEN.contains(bridge.substring(0, bridge.length() - 2))
          && run(List.of(IP.toString(), "-o", "link", "show", "master", bridge)).isEmpty()) {
        run(List.of(IP.toString(), "link", "del", bridge));
      }
    }
  }

  /** Whether another run's bridge has this id (and subnet). */
  private static boolean taken(List<String> bridges, int id) {
    return bridges.stream().anyMatch(l -> l.contains(": " + PREFIX + id + "br"));
  }

  /** Whether a namespace has processes in it, which a run still going has started. */
  private static boolean ownedByLiveRun(String ns) throws IOException, InterruptedException {
    return !run(List.of(IP.toString(), "netns", "pids", ns)).isEmpty();
  }

  private void ip(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(IP.toString()));
    command.addAll(List.of(args));
    run(command);
  }

  private void quietly(String... args) {
    try {
      ip(args);
    } catch (IOException | InterruptedException | IllegalStateException e) {
      // gone already, or going: nothing to clean
    }
  }

  private static List<String> run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " hung");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out.strip());
    }
    return out.lines().filter(l -> !l.isBlank()).toList();
  }
}
