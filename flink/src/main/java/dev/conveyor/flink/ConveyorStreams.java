package dev.conveyor.flink;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import java.io.Serializable;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Conveyor in a Flink job of your own: classifies a stream with the operator Conveyor's own job
 * runs, one model per parallel task, requests gathered into batches of {@code batch} (run when
 * full, after {@code linger-ms}, before each checkpoint barrier and at the end of the input). Each
 * record gives one result; an image that cannot be classified gives an error result, never a failed
 * job. The settings are the pipeline's, by name, as {@code conveyor settings} lists them ({@code
 * model}, {@code preset}, {@code batch}, {@code linger-ms}, {@code top-k}, {@code models}, …),
 * checked when the job is built.
 *
 * <pre>{@code
 * DataStream<Tuple2<Photo, ClassifyResult>> labelled =
 *     ConveyorStreams.classify(photos, Photo::jpeg, Map.of("model", "/models/resnet50.onnx"));
 * }</pre>
 */
public final class ConveyorStreams {
  private ConveyorStreams() {}

  /** The image bytes of a record of yours. */
  @FunctionalInterface
  public interface ImageOf<T> extends Serializable {
    byte[] bytes(T record);
  }

  /** Classifies requests: one {@link ClassifyResult} each, with the request's id. */
  public static SingleOutputStreamOperator<ClassifyResult> classify(
      DataStream<ImageRequest> requests, Map<String, String> settings) {
    return requests
        .transform(
            "conveyor-classify",
            TypeInformation.of(ClassifyResult.class),
            new ClassifyOperator<>(settings, new Requests()))
        .name("conveyor-classify");
  }

  /**
   * Classifies the image each record of yours holds, and gives each record back with its result. A
   * record with no bytes gets an error result.
   */
  public static <T> SingleOutputStreamOperator<Tuple2<T, ClassifyResult>> classify(
      DataStream<T> records, ImageOf<T> image, Map<String, String> settings) {
    TupleTypeInfo<Tuple2<T, ClassifyResult>> type =
        new TupleTypeInfo<>(records.getType(), TypeInformation.of(ClassifyResult.class));
    return records
        .transform(
            "conveyor-classify", type, new ClassifyOperator<>(settings, new Records<>(image)))
        .name("conveyor-classify");
  }

  private static final class Requests
      implements ClassifyOperator.Shape<ImageRequest, ClassifyResult> {
    private static final long serialVersionUID = 1L;

    @Override
    public ImageRequest request(ImageRequest in) {
      return in;
    }

    @Override
    public ClassifyResult result(ImageRequest in, ImageRequest request, ClassifyResult result) {
      return result;
    }
  }

  private static final class Records<T>
      implements ClassifyOperator.Shape<T, Tuple2<T, ClassifyResult>> {
    private static final long serialVersionUID = 1L;
    private final ImageOf<T> image;

    Records(ImageOf<T> image) {
      this.image = image;
    }

    @Override
    public ImageRequest request(T in) {
      byte[] bytes = image.bytes(in);
      String id = ImageRequest.newId();
      return bytes == null
          ? ImageRequest.unreadable(id, id, "the record holds no image")
          : new ImageRequest(id, id, bytes, null, null, 0);
    }

    @Override
    public Tuple2<T, ClassifyResult> result(T in, ImageRequest request, ClassifyResult result) {
      return Tuple2.of(in, result);
    }
  }
}
