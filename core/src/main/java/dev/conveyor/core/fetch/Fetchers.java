package dev.conveyor.core.fetch;

import dev.conveyor.core.settings.Settings;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's one fetcher, and the guard on what requests may name. A reference is fetched only
 * when {@link FetchSettings#FETCH_ALLOW} allows it: {@code scheme://bucket/key} goes to the {@link
 * FetcherProvider} on the class path for that scheme, opened on first use; a path ({@code
 * /srv/images/a.jpg}, {@code file:/srv/images/a.jpg}) is read by {@link FileFetcher} once {@link
 * FetchAllow#confine} has found it under an allowed folder. Anything else, and any reference that
 * is missing or cannot be read, is {@link FetchAllow#denied()}.
 */
public final class Fetchers implements Fetcher, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Fetchers.class);

  private final Settings settings;
  private final FetchAllow allow;
  private final Duration timeout;
  private final Map<String, Fetcher> open = new ConcurrentHashMap<>();

  /**
   * @param settings {@link FetchSettings}: what may be fetched, and the stores' settings
   */
  public Fetchers(Settings settings) {
    this(settings, settings.get(FetchSettings.FETCH_ALLOW));
  }

  /**
   * @param allow what may be fetched, instead of the settings' {@link FetchSettings#FETCH_ALLOW}
   */
  public Fetchers(Settings settings, FetchAllow allow) {
    this.settings = settings;
    this.allow = allow;
    this.timeout = Duration.ofSeconds(settings.get(FetchSettings.FETCH_TIMEOUT));
  }

  /** What this fetcher may fetch. */
  public FetchAllow allowed() {
    return allow;
  }

  @Override
  public Duration timeout() {
    return timeout;
  }

  @Override
  public byte[] fetch(String key, long maxBytes) {
    if (key == null) {
      throw FetchAllow.denied();
    }
    int sep = key.indexOf("://");
    String scheme = sep > 0 ? key.substring(0, sep).toLowerCase(Locale.ROOT) : null;
    if (scheme == null || scheme.equals("file")) {
      String path = key.startsWith("file://") ? key.substring(7) : key;
      if (scheme == null && path.startsWith("file:")) {
        path = path.substring(5);
      }
      return FileFetcher.read(allow.confine(path), maxBytes);
    }
    String rest = key.substring(sep + 3);
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String object = slash < 0 ? "" : rest.substring(slash + 1);
    if (bucket.isEmpty() || object.isEmpty() || !plainKey(object)) {
      throw FetchAllow.denied();
    }
    if (!allow.allowsStore(scheme, bucket, object)) {
      LOG.debug("refused a {}:// reference outside --fetch-allow", scheme);
      throw FetchAllow.denied();
    }
    // the provider sees the reference as the rule matched it: its scheme in lower case
    return open.computeIfAbsent(scheme, this::openFor).fetch(scheme + "://" + rest, maxBytes);
  }

  /**
   * Whether an object key is taken as it is written: no {@code .} or {@code ..} segment that a
   * store or a proxy could resolve past an allowed prefix, and no control characters.
   */
  static boolean plainKey(String key) {
    for (String segment : key.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return false;
      }
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\\') {
        return false;
      }
    }
    return true;
  }

  private Fetcher openFor(String scheme) {
    for (FetcherProvider p : ServiceLoader.load(FetcherProvider.class)) {
      if (p.schemes().contains(scheme)) {
        return p.open(settings);
      }
    }
    LOG.warn(
        "--fetch-allow names {}:// but no fetcher for it is on the class path (s3:// needs"
            + " conveyor-s3)",
        scheme);
    return (key, max) -> {
      throw FetchAllow.denied();
    };
  }

  /** Closes the stores' fetchers that were opened. */
  @Override
  public void close() {
    for (Fetcher f : open.values()) {
      if (f instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          // closing on the way out: nothing to hand the error to
        }
      }
    }
    open.clear();
  }
}
