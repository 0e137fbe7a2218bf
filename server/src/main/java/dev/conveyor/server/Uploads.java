package dev.conveyor.server;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.preprocess.TensorReader;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** The images of an upload: multipart files, or one image as the body. */
final class Uploads {
  private final long maxBytes;

  Uploads(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Every file of a multipart upload (any field names), or the body as one image. */
  List<ImageRequest> all(Context ctx) {
    checkSize(ctx);
    if (!ctx.isMultipartFormData()) {
      return List.of(body(ctx));
    }
    List<ImageRequest> requests = new ArrayList<>();
    for (UploadedFile f : ctx.uploadedFiles()) {
      requests.add(request(f));
    }
    if (requests.isEmpty()) {
      throw new ConveyorException(ErrorCode.BAD_REQUEST, "the request holds no image");
    }
    return requests;
  }

  /** The multipart file in {@code field}, or null when the request has none. */
  ImageRequest field(Context ctx, String field) {
    checkSize(ctx);
    UploadedFile file = ctx.isMultipartFormData() ? ctx.uploadedFile(field) : null;
    return file == null ? null : request(file);
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
  private static ImageRequest body(Context ctx) {
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
    return ImageRequest.ofBytes("body", ctx.bodyAsBytes(), type);
  }

  private void checkSize(Context ctx) {
    if (ctx.contentLength() > maxBytes) {
      throw new ConveyorException(
          ErrorCode.TOO_LARGE,
          "the upload is %d bytes, over the limit of %d".formatted(ctx.contentLength(), maxBytes));
    }
  }

  private static ImageRequest request(UploadedFile file) {
    try (InputStream in = file.content()) {
      return ImageRequest.ofBytes(file.filename(), in.readAllBytes(), file.contentType());
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "the upload could not be read: " + e.getMessage());
    }
  }
}
