package dev.conveyor.assembly;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.model.RepositoryIndex;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.worker.Models;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models a process serves from a {@link ModelRepository}, each by its name: the pipeline of its
 * serving version, opened on first use with {@link RepositorySettings}.
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

  private final ModelRepository repository;
  private final String defaultModel;
  private final Map<String, String> base;
  private final Function<Settings, Pipeline> opener;
  private final Map<String, ModelSlot> slots = new TreeMap<>();
  private final Set<String> unloaded = new HashSet<>();
  private volatile RepositoryIndex known;
  private final RepositoryProblems problems;
  private ModelBudget budget;
  private boolean closed;
  private ScheduledExecutorService watcher;

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
    this.problems = new RepositoryProblems(repository.location());
    this.known = repository.index();
    problems.report(known);
  }

  @Override
  public String describe() {
    return "the models in " + repository.location();
  }

  /**
   * Whether the repository has a model named {@code name}: as last read when it did, so that a
   * model served is found per request without reading the folder; else as it is now.
   */
  public boolean has(String name) {
    return ModelRepository.isModelName(name)
        && (known.model(name).isPresent() || index().model(name).isPresent());
  }

  /** The repository served. */
  public ModelRepository repository() {
    return repository;
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
  public ModelLease lease(String name) {
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
    while (true) {
      ModelSlot slot = slot(name);
      slot.lastUsed = System.nanoTime();
      // the serving version, without waiting for a new one being opened
      ModelSlot.Open serving = slot.serving;
      ModelLease lease = serving == null ? null : serving.tryLease();
      if (lease != null) {
        return lease;
      }
      RepositoryIndex.Model model = index().model(name).orElse(null);
      if (model != null && budget != null) {
        budget.makeRoom(this, slots, slot, ModelSlot.fileSize(model.latest()));
      }
      synchronized (slot) {
        if (slot.dropped) {
          continue; // unloaded, evicted or dropped meanwhile: look the name up again
        }
        if (slot.serving != null) {
          return slot.serving.lease();
        }
        if (model != null) {
          return slot.openNewest(model, v -> openWarm(model, v));
        }
      }
      // a name the repository does not have keeps no slot, so that names asked for do not pile
      // up; a caller that opened it meanwhile (a model just published) keeps its lease
      synchronized (this) {
        if (slots.get(name) == slot) {
          slots.remove(name);
        }
      }
      slot.stop();
      throw unknown();
    }
  }

  /** The slot of the model named {@code name}, made if there is none. */
  private synchronized ModelSlot slot(String name) {
    if (closed) {
      throw new ConveyorException(ErrorCode.UNAVAILABLE, "the models are closed");
    }
    if (unloaded.contains(name)) {
      throw new ConveyorException(
          ErrorCode.UNKNOWN_MODEL,
          "the model is unloaded here: load it again through the repository's load route");
    }
    return slots.computeIfAbsent(name, ModelSlot::new);
  }

  /**
   * Reads the repository again and rolls each model in use on to its newest version, one model at a
   * time; returns each model's state after.
   */
  public List<ModelState> refresh() {
    repository.pull();
    RepositoryIndex index = index();
    problems.report(index);
    List<ModelSlot> inUse;
    synchronized (this) {
      inUse = new ArrayList<>(slots.values());
    }
    for (ModelSlot slot : inUse) {
      RepositoryIndex.Model model = index.model(slot.name).orElse(null);
      if (model == null) {
        continue;
      }
      RepositoryIndex.Version newest = model.latest();
      slot.rollTo(newest.number(), () -> openWarm(model, newest), ModelSlot.fileSize(newest));
    }
    return states();
  }

  /**
   * Keeps the models open within {@code bytes} of model files: see {@link ModelBudget}. 0: no
   * budget.
   */
  public ModelSet budget(long bytes) {
    this.budget = bytes > 0 ? new ModelBudget(bytes, defaultModel) : null;
    return this;
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
    repository.pull();
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
    if (!ModelRepository.isModelName(name) || index().model(name).isEmpty()) {
      throw unknown();
    }
    ModelSlot slot;
    synchronized (this) {
      unloaded.add(name);
      slot = slots.remove(name);
    }
    ModelSlot.Open stopped = slot == null ? null : slot.stop();
    if (stopped != null) {
      LOG.info("model {} unloaded; version {} closes once idle", name, stopped.version);
    }
  }

  /** Every model of the repository and each of its versions, with its state here. */
  public List<VersionState> versionStates() {
    RepositoryIndex index = index();
    Set<String> off;
    synchronized (this) {
      off = Set.copyOf(unloaded);
    }
    return VersionState.of(index, states(), off);
  }

  /**
   * Reads the repository every {@code every} from now on, rolling each model in use on to its
   * newest version ({@link #refresh}); until closed. A failure to read it is logged and tried again
   * at the next turn.
   */
  public synchronized ModelSet watch(Duration every) {
    if (watcher == null) {
      watcher =
          Periodic.every(
              every, this::refresh, "reading the model repository " + repository.location());
    }
    return this;
  }

  /** Each model in use: the version serving it, and the newest one that failed to open, if any. */
  public synchronized List<ModelState> states() {
    return slots.values().stream().map(ModelSlot::state).toList();
  }

  /**
   * Closes every serving version; a version with leases still out closes when the last is given
   * back.
   */
  @Override
  public void close() {
    List<ModelSlot> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(slots.values());
      slots.clear();
      if (watcher != null) {
        watcher.shutdownNow();
      }
    }
    all.forEach(ModelSlot::stop);
    repository.close();
  }

  /** The repository as it is now, kept as what {@link #has} answers from. */
  private RepositoryIndex index() {
    RepositoryIndex index = repository.index();
    known = index;
    return index;
  }

  /** A version opened and {@linkplain ModelSlot#warmed warmed}. */
  private Pipeline openWarm(RepositoryIndex.Model model, RepositoryIndex.Version version) {
    return ModelSlot.warmed(opener.apply(RepositorySettings.of(base, model, version)));
  }

  private static ConveyorException unknown() {
    return new ConveyorException(ErrorCode.UNKNOWN_MODEL, "no such model in the repository");
  }
}
