package dev.conveyor.assembly;

import dev.conveyor.core.model.RepositoryIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A version of a repository's model and its state in a {@link ModelSet}: {@code READY} (serving),
 * {@code DRAINING} (finishing batches), {@code UNAVAILABLE} (failed to open, with why, or
 * unloaded), or {@code ""} (not opened: it will be on first use); {@code reason} only for {@code
 * UNAVAILABLE}.
 */
public record VersionState(String name, long version, String state, String reason) {
  /** Every version of the repository's models, with the state the models in use report. */
  static List<VersionState> of(
      RepositoryIndex index, List<ModelState> inUse, Set<String> unloaded) {
    Map<String, ModelState> states = new HashMap<>();
    for (ModelState s : inUse) {
      states.put(s.name(), s);
    }
    List<VersionState> all = new ArrayList<>();
    for (RepositoryIndex.Model m : index.models()) {
      ModelState s = states.get(m.name());
      long newest = m.latest().number();
      for (RepositoryIndex.Version v : m.versions()) {
        long n = v.number();
        if (unloaded.contains(m.name())) {
          all.add(
              n == newest
                  ? new VersionState(m.name(), n, "UNAVAILABLE", "unloaded")
                  : new VersionState(m.name(), n, "", null));
        } else if (s != null && s.serving() == n) {
          all.add(new VersionState(m.name(), n, "READY", null));
        } else if (s != null && s.draining().contains(n)) {
          all.add(new VersionState(m.name(), n, "DRAINING", null));
        } else if (s != null && s.failedVersion() == n) {
          all.add(new VersionState(m.name(), n, "UNAVAILABLE", s.failure()));
        } else {
          all.add(new VersionState(m.name(), n, "", null));
        }
      }
    }
    return all;
  }
}
