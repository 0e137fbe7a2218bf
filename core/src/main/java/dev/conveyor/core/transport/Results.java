package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Reads the results that workers stored on a broker, as the JSON that {@code classify} prints. */
public interface Results extends AutoCloseable {

  /**
   * The stored result of one request, or {@code null} when there is none (not done, or expired).
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} when the broker keeps no
   *     results by id
   */
  ClassifyResult get(String id);

  /** Hands on every result stored now, oldest first, then returns. */
  void stored(Consumer<String> json);

  /** Hands on results as they are stored from now on, until {@code running} turns false. */
  void follow(BooleanSupplier running, Consumer<String> json);

  @Override
  void close();
}
