package dev.conveyor.assembly;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.batch.Batch;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.model.RepositoryIndex;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.worker.Models;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models a process serves from a {@link ModelRepository}, each by its name: the pipeline of its
 * serving version, opened on first use with the model's config over the process's settings.
 *
 * <p>{@link #refresh()} reads the repository again and rolls each model in use on to its newest
 * version: the new version is opened beside the serving one and warmed with a batch, then every new
 * {@link #lease} gets it, while leases already taken finish on the old version, which is closed
 * once the last of them is given back. A version that fails to open (a corrupt file, an input the
 * settings do not fit, a config with a setting a model may not set) leaves the serving version in
 * place and is reported in {@link #states()}. Going back is a repository whose newest version is
 * the old one.
 */
public final class ModelSet implements Models, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSet.class);

  /**
   * What a model's config may set: its preprocessing, scores and limits, and its batch; not the
   * model file, which is the version's.
   */
  public static final Set<String> PER_MODEL =
      perModel(PipelineSettings.MODEL_SETTINGS, PipelineSettings.BATCH_SETTINGS);

  private final ModelRepository repository;
  private final String defaultModel;
  private final Map<String, String> base;
  private final Function<Settings, Pipeline> opener;
  private final Map<String, Slot> slots = new TreeMap<>();
  private final Set<String> unloaded = new java.util.HashSet<>();
  private long budgetBytes;
  private boolean closed;
  private java.util.concurrent.ScheduledExecutorService watcher;

  /**
   * @param defaultModel the model a request naming none gets, or {@code null}: such a request gets
   *     {@code UNKNOWN_MODEL}
   * @param base the process's pipeline settings by name; a model's config is laid over them
   */
  public ModelSet(ModelRepository repository, String defaultModel, Map<String, String> base) {
    this(repository, defaultModel, base, Pipelines::open);
  }

  ModelSet(
      ModelRepository repository,
      String defaultModel,
      Map<String, String> base,
      Function<Settings, Pipeline> opener) {
    this.repository = repository;
    this.defaultModel = defaultModel;
    this.base = Map.copyOf(base);
    this.opener = opener;
  }

  /**
   * The repository the settings name ({@code models}), if they name one: served with the pipeline
   * settings given laid under each model's config, its default model opened at once (so that a
   * model that cannot be served is said at start), and read again every {@code models-poll}.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when {@code model} is given too, the
   *     repository is not a folder, or the default model cannot be served
   */
  public static java.util.Optional<ModelSet> open(Settings settings) {
    Path folder = settings.get(PipelineSettings.MODELS);
    if (folder == null) {
      return java.util.Optional.empty();
    }
    if (settings.has(PipelineSettings.MODEL)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "give --model FILE for one model, or --models REPO for a repository of them, not both");
    }
    Map<String, String> base = new LinkedHashMap<>();
    for (SettingGroup g :
        List.of(
            PipelineSettings.MODEL_SETTINGS,
            PipelineSettings.FETCH_SETTINGS,
            PipelineSettings.BATCH_SETTINGS)) {
      for (Setting<?> s : g.settings()) {
        String given = settings.given().get(s.name());
        if (given != null) {
          base.put(s.name(), given);
        }
      }
    }
    String defaultModel = settings.get(PipelineSettings.DEFAULT_MODEL);
    ModelSet set = new ModelSet(ModelRepository.open(folder), defaultModel, base);
    if (defaultModel != null) {
      try {
        set.lease(defaultModel).close();
      } catch (ConveyorException e) {
        set.close();
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            e.code() == ErrorCode.UNKNOWN_MODEL
                ? "--default-model " + defaultModel + " is not in the repository " + folder
                : e.getMessage(),
            e);
      }
    }
    set.budget(settings.get(PipelineSettings.MODELS_MEMORY) * 1024L * 1024L);
    return java.util.Optional.of(set.watch(settings.get(PipelineSettings.MODELS_POLL)));
  }

  @Override
  public String describe() {
    return "the models in " + repository.root();
  }

  /**
   * The serving version of the model named {@code name}, opened now if it is not yet; give it back
   * by closing it once the batch it runs is done.
   *
   * @param name the model's name, or {@code null} for the default one
   * @throws ConveyorException {@code UNKNOWN_MODEL} when the repository has no such model (the name
   *     is not repeated: it is the caller's), {@code INVALID_SETTING} when its newest version
   *     cannot be opened and none serves
   */
  @Override
  public Lease lease(String name) {
    if (name == null) {
      if (defaultModel == null) {
        throw new ConveyorException(
            ErrorCode.UNKNOWN_MODEL,
            "the request names no model, and there is no default one: name one of the"
                + " repository's models");
      }
      name = defaultModel;
    }
    if (!ModelRepository.isModelName(name)) {
      throw unknown();
    }
    Slot slot;
    synchronized (this) {
      if (closed) {
        throw new ConveyorException(ErrorCode.UNAVAILABLE, "the models are closed");
      }
      if (unloaded.contains(name)) {
        throw new ConveyorException(
            ErrorCode.UNKNOWN_MODEL,
            "the model is unloaded here: load it again through the repository's load route");
      }
      slot = slots.computeIfAbsent(name, Slot::new);
    }
    slot.lastUsed = System.nanoTime();
    // the serving version, without waiting for a new one being opened
    Loaded serving = slot.serving;
    Lease lease = serving == null ? null : serving.tryLease();
    if (lease != null) {
      return lease;
    }
    if (budgetBytes > 0) {
      makeRoom(slot);
    }
    synchronized (slot) {
      if (slot.serving != null) {
        return slot.serving.lease();
      }
      RepositoryIndex.Model model = repository.index().model(name).orElse(null);
      if (model != null) {
        try {
          slot.serving = new Loaded(slot, model.latest().number(), openWarm(model, model.latest()));
          slot.bytes = size(model.latest());
        } catch (RuntimeException e) {
          failed(slot, model.latest(), e);
          throw new ConveyorException(
              ErrorCode.INVALID_SETTING,
              "model %s version %d cannot be served: %s"
                  .formatted(name, model.latest().number(), slot.failure),
              e);
        }
        slot.failedVersion = 0;
        slot.failure = null;
        return slot.serving.lease();
      }
    }
    // a name the repository does not have keeps no slot, so that names asked for do not pile up
    synchronized (this) {
      if (slots.get(name) == slot && slot.serving == null) {
        slots.remove(name);
      }
    }
    throw unknown();
  }

  /**
   * Reads the repository again and rolls each model in use on to its newest version, one model at a
   * time; returns each model's state after.
   */
  public List<ModelState> refresh() {
    RepositoryIndex index = repository.index();
    List<Slot> inUse;
    synchronized (this) {
      inUse = new ArrayList<>(slots.values());
    }
    for (Slot slot : inUse) {
      RepositoryIndex.Model model = index.model(slot.name).orElse(null);
      if (model == null) {
        continue;
      }
      RepositoryIndex.Version newest = model.latest();
      Loaded serving;
      synchronized (slot) {
        serving = slot.serving;
        if (serving == null
            || slot.rolling
            || serving.version == newest.number()
            || slot.failedVersion == newest.number()) {
          continue;
        }
        slot.rolling = true;
      }
      // opened and warmed while the serving version goes on taking batches
      Pipeline next = null;
      RuntimeException failure = null;
      try {
        next = openWarm(model, newest);
      } catch (RuntimeException e) {
        failure = e;
      }
      synchronized (slot) {
        slot.rolling = false;
        if (failure != null) {
          failed(slot, newest, failure);
        } else if (slot.serving != serving) {
          next.close(); // closed meanwhile
        } else {
          slot.failedVersion = 0;
          slot.failure = null;
          slot.serving = new Loaded(slot, newest.number(), next);
          slot.bytes = size(newest);
          LOG.info(
              "model {}: version {} serves new batches; version {} closes once idle",
              slot.name,
              newest.number(),
              serving.version);
          slot.draining.add(serving);
          serving.release();
        }
      }
    }
    return states();
  }

  /**
   * Keeps the models open within {@code bytes} of model files (about what ONNX Runtime holds of
   * their weights): opening one more closes the least recently used others, the default model last,
   * until it fits; a model closed so opens again when next asked for. 0: no budget.
   */
  public ModelSet budget(long bytes) {
    this.budgetBytes = bytes;
    return this;
  }

  /** Closes least recently used models until the one of {@code slot} fits in the budget. */
  private void makeRoom(Slot slot) {
    RepositoryIndex.Model model = repository.index().model(slot.name).orElse(null);
    if (model == null) {
      return;
    }
    long needed = size(model.latest());
    while (true) {
      Slot victim = null;
      long used = 0;
      synchronized (this) {
        for (Slot s : slots.values()) {
          if (s == slot || s.serving == null) {
            continue;
          }
          used += s.bytes;
          boolean older =
              victim == null
                  || (s.name.equals(defaultModel) != victim.name.equals(defaultModel)
                      ? victim.name.equals(defaultModel)
                      : s.lastUsed < victim.lastUsed);
          if (older) {
            victim = s;
          }
        }
        if (victim == null || used + needed <= budgetBytes) {
          return;
        }
        slots.remove(victim.name);
      }
      synchronized (victim) {
        Loaded serving = victim.serving;
        if (serving != null) {
          victim.serving = null;
          serving.release();
          LOG.info(
              "model {} closed to make room for {} within the memory budget; it opens again when"
                  + " next asked for",
              victim.name,
              slot.name);
        }
      }
    }
  }

  private static long size(RepositoryIndex.Version version) {
    try {
      return java.nio.file.Files.size(version.file());
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  /**
   * Opens the model named {@code name} now, at its newest version, and serves it again if it was
   * unloaded.
   *
   * @throws ConveyorException {@code UNKNOWN_MODEL} when the repository has no such model, {@code
   *     INVALID_SETTING} when it cannot be served
   */
  public void load(String name) {
    synchronized (this) {
      unloaded.remove(name);
    }
    lease(name).close();
  }

  /**
   * Stops serving the model named {@code name} until it is {@linkplain #load loaded} again:
   * requests naming it get {@code UNKNOWN_MODEL}; batches already running finish, and its version
   * closes with the last of them.
   *
   * @throws ConveyorException {@code UNKNOWN_MODEL} when the repository has no such model
   */
  public void unload(String name) {
    if (!ModelRepository.isModelName(name) || repository.index().model(name).isEmpty()) {
      throw unknown();
    }
    Slot slot;
    synchronized (this) {
      unloaded.add(name);
      slot = slots.remove(name);
    }
    if (slot != null) {
      synchronized (slot) {
        if (slot.serving != null) {
          Loaded serving = slot.serving;
          slot.serving = null;
          serving.release();
          LOG.info("model {} unloaded; version {} closes once idle", name, serving.version);
        }
      }
    }
  }

  /**
   * Every model of the repository and each of its versions, with its state here: {@code READY}
   * (serving), {@code DRAINING} (finishing batches), {@code UNAVAILABLE} (failed to open, with why,
   * or unloaded), or {@code ""} (not opened: it will be on first use).
   */
  public List<VersionState> index() {
    RepositoryIndex index = repository.index();
    Map<String, ModelState> states = new java.util.HashMap<>();
    for (ModelState s : states()) {
      states.put(s.name(), s);
    }
    Set<String> off;
    synchronized (this) {
      off = Set.copyOf(unloaded);
    }
    List<VersionState> all = new ArrayList<>();
    for (RepositoryIndex.Model m : index.models()) {
      ModelState s = states.get(m.name());
      for (RepositoryIndex.Version v : m.versions()) {
        long n = v.number();
        String state = "";
        String reason = null;
        if (off.contains(m.name())) {
          state = n == m.latest().number() ? "UNAVAILABLE" : "";
          reason = n == m.latest().number() ? "unloaded" : null;
        } else if (s != null && s.serving() == n) {
          state = "READY";
        } else if (s != null && s.draining().contains(n)) {
          state = "DRAINING";
        } else if (s != null && s.failedVersion() == n) {
          state = "UNAVAILABLE";
          reason = s.failure();
        }
        all.add(new VersionState(m.name(), n, state, reason));
      }
    }
    return all;
  }

  /** A version's state in {@link #index()}; {@code reason} only for {@code UNAVAILABLE}. */
  public record VersionState(String name, long version, String state, String reason) {}

  /**
   * Reads the repository every {@code every} from now on, rolling each model in use on to its
   * newest version ({@link #refresh}); until closed. A failure to read it is logged and tried again
   * at the next turn.
   */
  public synchronized ModelSet watch(java.time.Duration every) {
    if (watcher == null) {
      watcher =
          java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "conveyor-models");
                t.setDaemon(true);
                return t;
              });
      watcher.scheduleWithFixedDelay(
          () -> {
            try {
              refresh();
            } catch (RuntimeException e) {
              LOG.warn(
                  "reading the model repository {} failed: {}", repository.root(), e.toString());
            }
          },
          every.toMillis(),
          every.toMillis(),
          java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    return this;
  }

  /** Each model in use: the version serving it, and the newest one that failed to open, if any. */
  public synchronized List<ModelState> states() {
    List<ModelState> states = new ArrayList<>();
    for (Slot slot : slots.values()) {
      synchronized (slot) {
        states.add(
            new ModelState(
                slot.name,
                slot.serving == null ? 0 : slot.serving.version,
                slot.draining.stream().map(l -> l.version).toList(),
                slot.failedVersion,
                slot.failure));
      }
    }
    return states;
  }

  /**
   * Closes every serving version; a version with leases still out closes when the last is given
   * back.
   */
  @Override
  public void close() {
    List<Slot> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(slots.values());
      slots.clear();
      if (watcher != null) {
        watcher.shutdownNow();
      }
    }
    for (Slot slot : all) {
      synchronized (slot) {
        if (slot.serving != null) {
          Loaded serving = slot.serving;
          slot.serving = null;
          serving.release();
        }
      }
    }
  }

  /**
   * Opens a version and warms it with a batch.
   *
   * @throws RuntimeException why it cannot be served
   */
  private Pipeline openWarm(RepositoryIndex.Model model, RepositoryIndex.Version version) {
    Pipeline pipeline = opener.apply(settings(model, version));
    try {
      warm(pipeline);
      return pipeline;
    } catch (RuntimeException e) {
      pipeline.close();
      throw e;
    }
  }

  /** Records, in the slot and the log, that a version cannot be served. */
  private static void failed(Slot slot, RepositoryIndex.Version version, RuntimeException e) {
    slot.failedVersion = version.number();
    slot.failure = e.getMessage();
    LOG.warn(
        "model {} version {} cannot be served, {}: {}",
        slot.name,
        version.number(),
        slot.serving == null
            ? "and none serves"
            : "version " + slot.serving.version + " still does",
        e.getMessage());
  }

  /** The process's settings, the model's config over them, and the version's file as the model. */
  private Settings settings(RepositoryIndex.Model model, RepositoryIndex.Version version) {
    Map<String, String> merged = new LinkedHashMap<>(base);
    for (Map.Entry<String, String> e : model.config().entrySet()) {
      if (!PER_MODEL.contains(e.getKey())) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "%s/%s sets '%s', which a model may not set; it may set %s"
                .formatted(
                    model.name(),
                    ModelRepository.CONFIG_FILE,
                    e.getKey(),
                    String.join(", ", new java.util.TreeSet<>(PER_MODEL))));
      }
      String value = e.getValue();
      if (e.getKey().equals(PipelineSettings.LABELS.name()) && !Path.of(value).isAbsolute()) {
        value = model.folder().resolve(value).toString();
      }
      merged.put(e.getKey(), value);
    }
    merged.put(PipelineSettings.MODEL.name(), version.file().toString());
    return Pipelines.read(merged, model.name() + "/" + ModelRepository.CONFIG_FILE);
  }

  /** One batch of zeros through the model, so that the first real batch does not pay its start. */
  private static void warm(Pipeline pipeline) {
    int n = pipeline.batchSize();
    Batch batch = pipeline.newBatch(n);
    pipeline.classifier().run(batch.input(), n, batch.output());
  }

  private static ConveyorException unknown() {
    return new ConveyorException(ErrorCode.UNKNOWN_MODEL, "no such model in the repository");
  }

  private static Set<String> perModel(SettingGroup... groups) {
    return java.util.Arrays.stream(groups)
        .flatMap(g -> g.settings().stream())
        .map(Setting::name)
        .filter(n -> !n.equals(PipelineSettings.MODEL.name()))
        .collect(Collectors.toUnmodifiableSet());
  }

  /**
   * A model's state: the version serving it (0: none yet), the older versions still finishing the
   * batches they had, and the newest version that failed to open with why (0 and null: none
   * failed).
   */
  public record ModelState(
      String name, long serving, List<Long> draining, long failedVersion, String failure) {}

  /** A model's slot: its serving version, and its last failure to open one. */
  private static final class Slot {
    final String name;
    final List<Loaded> draining = new ArrayList<>();
    volatile Loaded serving;
    volatile long lastUsed;
    volatile long bytes;
    boolean rolling;
    long failedVersion;
    String failure;

    Slot(String name) {
      this.name = name;
    }
  }

  /**
   * An open version: closed when it no longer serves and its last lease is given back. Its count
   * holds one for serving, and one per lease out.
   */
  private static final class Loaded {
    final Slot slot;
    final long version;
    final Pipeline pipeline;
    final AtomicInteger holds = new AtomicInteger(1);

    Loaded(Slot slot, long version, Pipeline pipeline) {
      this.slot = slot;
      this.version = version;
      this.pipeline = pipeline;
    }

    /** A lease, for the slot's serving version (which holds it open). */
    Lease lease() {
      holds.incrementAndGet();
      return new Lease(this);
    }

    /** A lease, unless this version has closed meanwhile. */
    Lease tryLease() {
      for (int h = holds.get(); h > 0; h = holds.get()) {
        if (holds.compareAndSet(h, h + 1)) {
          return new Lease(this);
        }
      }
      return null;
    }

    void release() {
      if (holds.decrementAndGet() == 0) {
        pipeline.close();
        synchronized (slot) {
          slot.draining.remove(this);
        }
        LOG.info("model {} version {} closed", slot.name, version);
      }
    }
  }

  /** A version lent for a batch; closing gives it back (once; again does nothing). */
  public static final class Lease implements Models.Lease {
    private final Loaded loaded;
    private final AtomicBoolean given = new AtomicBoolean();

    private Lease(Loaded loaded) {
      this.loaded = loaded;
    }

    public String name() {
      return loaded.slot.name;
    }

    public long version() {
      return loaded.version;
    }

    @Override
    public Pipeline pipeline() {
      return loaded.pipeline;
    }

    /** The results of a batch this version ran, each naming the model and the version. */
    @Override
    public List<ClassifyResult> named(List<ClassifyResult> results) {
      return results.stream().map(r -> r.madeBy(name(), version())).toList();
    }

    @Override
    public void close() {
      if (given.compareAndSet(false, true)) {
        loaded.release();
      }
    }
  }
}
