package dev.conveyor.assembly;

import dev.conveyor.core.model.RepositoryIndex;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What in a model repository does not fit its layout, logged once each while it stays: read every
 * few seconds, the same misplaced file is not said again each time.
 */
final class RepositoryProblems {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSet.class);

  private final String location;
  private List<String> reported = List.of();

  RepositoryProblems(String location) {
    this.location = location;
  }

  synchronized void report(RepositoryIndex index) {
    for (String problem : index.problems()) {
      if (!reported.contains(problem)) {
        LOG.warn("the model repository {}: {}", location, problem);
      }
    }
    reported = index.problems();
  }
}
