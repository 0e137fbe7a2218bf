package dev.conveyor.core;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The outcome for one request: its predictions, or an error with a code. This is the one result
 * type; every sink writes it as the JSON that {@code conveyor classify} prints.
 *
 * @param id the request's id
 * @param source the request's source
 * @param status {@code ok} or {@code error}
 * @param model the model's name, when a model was reached
 * @param version the model's version, when it was served from a model repository
 * @param predictions top-k, best first; empty on error
 * @param error the error, on error
 * @param host the worker's host name
 * @param latencyMs from the request entering Conveyor to its result
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClassifyResult(
    String id,
    String source,
    Status status,
    String model,
    Long version,
    List<Prediction> predictions,
    Error error,
    String host,
    @JsonProperty("latency_ms") Double latencyMs) {

  /** A result of a model that has no version: one not served from a repository. */
  public ClassifyResult(
      String id,
      String source,
      Status status,
      String model,
      List<Prediction> predictions,
      Error error,
      String host,
      Double latencyMs) {
    this(id, source, status, model, null, predictions, error, host, latencyMs);
  }

  /** Whether a result carries predictions or an error. */
  public enum Status {
    @JsonProperty("ok")
    OK,
    @JsonProperty("error")
    ERROR
  }

  /** An error's code and its message for people. */
  public record Error(ErrorCode code, String message) {}

  public static ClassifyResult ok(
      ImageRequest request, String model, List<Prediction> predictions, String host, double ms) {
    return new ClassifyResult(
        request.id(), request.source(), Status.OK, model, predictions, null, host, ms);
  }

  /**
   * A result as a SQL function's row gives it back (no host, no latency): {@code error} when its
   * code is given, else the model's predictions.
   *
   * @param errorCode an {@link ErrorCode}'s name, or null for a classified image
   */
  public static ClassifyResult fromRow(
      String id,
      String source,
      String model,
      Long version,
      List<Prediction> predictions,
      String errorCode,
      String errorMessage) {
    return errorCode != null
        ? new ClassifyResult(
            id,
            source,
            Status.ERROR,
            null,
            null,
            null,
            new Error(ErrorCode.valueOf(errorCode), errorMessage),
            null,
            null)
        : new ClassifyResult(id, source, Status.OK, model, version, predictions, null, null, null);
  }

  public static ClassifyResult error(
      ImageRequest request, ErrorCode code, String message, String host, double ms) {
    return new ClassifyResult(
        request.id(),
        request.source(),
        Status.ERROR,
        null,
        null,
        new Error(code, message),
        host,
        ms);
  }

  /**
   * This result as made by version {@code version} of the model named {@code model}, as a model
   * repository names them; an error result stays as it is.
   */
  public ClassifyResult madeBy(String model, long version) {
    return isOk()
        ? new ClassifyResult(
            id, source, status, model, version, predictions, error, host, latencyMs)
        : this;
  }

  @JsonIgnore // status says it; not a field of the JSON
  public boolean isOk() {
    return status == Status.OK;
  }

  /** The best prediction, or {@code null} for an error result. */
  public Prediction top() {
    return predictions == null || predictions.isEmpty() ? null : predictions.get(0);
  }
}
