package dev.conveyor.server;

import io.javalin.http.Context;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Answers a request when its future completes, without holding a server thread while it waits
 * (Javalin's {@code ctx.future}). The answer is written on the server's threads, not on the
 * pipeline thread that completed the future, and a failure becomes the JSON error of {@link
 * HttpErrors}; either way the request then goes through the after-handlers (metrics) as usual.
 */
final class Async {
  private final Executor responders;

  Async(Executor responders) {
    this.responders = responders;
  }

  /** Has {@code respond} answer {@code ctx} with the future's value, or answers its failure. */
  <T> void answer(Context ctx, CompletableFuture<T> future, Consumer<T> respond) {
    ctx.future(
        () ->
            future.handleAsync(
                (value, failure) -> {
                  try {
                    if (failure != null) {
                      HttpErrors.answer(failure, ctx);
                    } else {
                      respond.accept(value);
                    }
                  } catch (RuntimeException e) {
                    HttpErrors.answer(e, ctx);
                  }
                  return null;
                },
                responders));
  }
}
