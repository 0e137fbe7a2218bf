package dev.conveyor.server;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.preprocess.TensorReader;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.eclipse.jetty.http.BadMessageException;

/**
 * The images of an upload: multipart files, or one image as the body. Every upload is limited to
 * {@code maxBytes} as it is read, and the bytes all uploads hold in memory at once to a budget: an
 * upload that would pass it is answered "busy" (429) instead of being read.
 */
final class Uploads {
  private static final String HELD = "conveyor.upload.held";

  private final long maxBytes;
  private final Semaphore budget;
  private final int budgetBytes;

  /**
   * @param budgetBytes the most upload bytes held in memory at once, for every request together
   */
  Uploads(long maxBytes, int budgetBytes) {
    this.maxBytes = maxBytes;
    this.budgetBytes = budgetBytes;
    this.budget = new Semaphore(budgetBytes);
  }

  /** A budget of a quarter of the heap, and at least one upload of the largest size. */
  static int defaultBudget(long maxBytes) {
    return (int)
        Math.min(Integer.MAX_VALUE, Math.max(maxBytes, Runtime.getRuntime().maxMemory() / 4));
  }

  /** Gives back what {@code ctx}'s upload held, once it is answered. */
  void release(Context ctx) {
    Integer held = ctx.attribute(HELD);
    if (held != null) {
      ctx.attribute(HELD, null);
      budget.release(held);
    }
  }

  /**
   * Keeps what {@code ctx}'s upload holds until {@code done} completes, instead of until {@code
   * ctx} is answered: a job's image waits in the queue after its caller has its answer.
   */
  void holdUntil(Context ctx, CompletableFuture<?> done) {
    Integer held = ctx.attribute(HELD);
    if (held != null && held > 0) {
      ctx.attribute(HELD, null);
      done.whenComplete((r, t) -> budget.release(held));
    }
  }

  /** Gives back {@code n} of the bytes {@code ctx} holds. */
  private void giveBack(Context ctx, long n) {
    int held = ctx.attribute(HELD);
    int bytes = (int) Math.min(n, held);
    ctx.attribute(HELD, held - bytes);
    budget.release(bytes);
  }

  /** Takes {@code n} bytes of the budget for {@code ctx}, or answers busy. */
  private void hold(Context ctx, long n) {
    int bytes = (int) Math.min(n, budgetBytes);
    if (!budget.tryAcquire(bytes)) {
      throw new ConveyorException(
          ErrorCode.BUSY,
          "the server holds as many uploads as its memory allows; try again in a moment");
    }
    Integer held = ctx.attribute(HELD);
    ctx.attribute(HELD, (held == null ? 0 : held) + bytes);
  }

  /** Every file of a multipart upload (any field names), or the body as one image. */
  List<ImageRequest> all(Context ctx) {
    if (!ctx.isMultipartFormData()) {
      return List.of(body(ctx)); // its bytes are read within the limit
    }
    checkSize(ctx);
    List<ImageRequest> requests = new ArrayList<>();
    for (UploadedFile f : parsed(ctx::uploadedFiles)) {
      requests.add(request(ctx, f));
    }
    if (requests.isEmpty()) {
      throw new ConveyorException(ErrorCode.BAD_REQUEST, "the request holds no image");
    }
    return requests;
  }

  /** The multipart file in {@code field}, or null when the request has none. */
  ImageRequest field(Context ctx, String field) {
    checkSize(ctx);
    UploadedFile file = ctx.isMultipartFormData() ? parsed(() -> ctx.uploadedFile(field)) : null;
    return file == null ? null : request(ctx, file);
  }

  /** The request's one image. */
  ImageRequest one(Context ctx) {
    List<ImageRequest> all = all(ctx);
    if (all.size() != 1) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "a job is one image; this request holds " + all.size());
    }
    return all.get(0);
  }

  /**
   * One image sent as the request body, which must be typed image/* (or octet-stream), or one
   * tensor typed application/x-tensor.
   */
  private ImageRequest body(Context ctx) {
    String type = ctx.contentType();
    if (type == null
        || !(type.startsWith("image/")
            || type.startsWith("application/octet-stream")
            || TensorReader.declared(type))) {
      throw new ConveyorException(
          ErrorCode.UNSUPPORTED_FORMAT,
          "send images as multipart/form-data, or one image as the body with Content-Type image/*,"
              + " or a tensor with Content-Type application/x-tensor; dtype=float32; shape=…");
    }
    return ImageRequest.ofBytes("body", bytes(ctx), type);
  }

  /**
   * The request's body, read up to the limit: one sent in chunks, with no length to check first, is
   * refused as soon as it passes the limit, before more of it is held.
   */
  byte[] bytes(Context ctx) {
    checkSize(ctx);
    long length = ctx.contentLength();
    try (InputStream in = ctx.req().getInputStream()) {
      if (length >= 0) {
        hold(ctx, length);
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
          throw new ConveyorException(
              ErrorCode.BAD_REQUEST,
              "the upload ended after %d of its %d bytes".formatted(body.length, length));
        }
        return body;
      }
      // sent in chunks: the largest upload is held until its size is known
      hold(ctx, maxBytes);
      ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = in.read(buffer)) > 0) {
        if (out.size() + (long) n > maxBytes) {
          throw tooLarge("the upload is over the limit of %d bytes".formatted(maxBytes));
        }
        out.write(buffer, 0, n);
      }
      byte[] body = out.toByteArray();
      giveBack(ctx, maxBytes - body.length);
      return body;
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "the upload could not be read: " + e.getMessage());
    }
  }

  private void checkSize(Context ctx) {
    if (ctx.contentLength() > maxBytes) {
      throw tooLarge(
          "the upload is %d bytes, over the limit of %d".formatted(ctx.contentLength(), maxBytes));
    }
  }

  private <T> T parsed(Supplier<T> parse) {
    return parsed(parse, maxBytes);
  }

  /**
   * Jetty's multipart parser, which stops at the configured limits: a part or a request over them
   * (sent in chunks, so with no length checked first) is refused with {@code TOO_LARGE}, and a body
   * it cannot read (no boundary, a part cut short, …) with {@code BAD_REQUEST}, not as a failure of
   * the server.
   */
  static <T> T parsed(Supplier<T> parse, long maxBytes) {
    try {
      return parse.get();
    } catch (IllegalStateException e) {
      if (e.getCause() instanceof BadMessageException unreadable) {
        // a body slower than the minimum data rate, or one Jetty's parser cannot read
        throw HttpErrors.unreadable(unreadable);
      }
      // Jetty's MultiPartFormInputStream: "Multipart Mime part … exceeds max filesize" and
      // "Request exceeds maxRequestSize"
      throw tooLarge("the upload is over the limit of %d bytes".formatted(maxBytes));
    } catch (ConveyorException e) {
      throw e;
    } catch (Exception e) { // the parser's IOException comes through Javalin unchecked
      throw new ConveyorException(ErrorCode.BAD_REQUEST, "the multipart body cannot be read");
    }
  }

  private ImageRequest request(Context ctx, UploadedFile file) {
    if (file.size() > maxBytes) {
      throw tooLarge("an uploaded file is over the limit of %d bytes".formatted(maxBytes));
    }
    hold(ctx, file.size());
    try (InputStream in = file.content()) {
      return ImageRequest.ofBytes(file.filename(), in.readAllBytes(), file.contentType());
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "the upload could not be read: " + e.getMessage());
    }
  }

  private static ConveyorException tooLarge(String message) {
    return new ConveyorException(ErrorCode.TOO_LARGE, message);
  }
}
