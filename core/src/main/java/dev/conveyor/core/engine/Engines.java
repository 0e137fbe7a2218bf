package dev.conveyor.core.engine;

import java.util.Optional;
import java.util.ServiceLoader;

/** Finds an {@link Engine} by name among those on the class path. */
public final class Engines {
  private Engines() {}

  public static Optional<Engine> find(String name) {
    for (Engine e : ServiceLoader.load(Engine.class)) {
      if (e.name().equals(name)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }
}
