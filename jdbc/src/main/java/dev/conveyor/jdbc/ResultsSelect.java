package dev.conveyor.jdbc;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The select of every column Conveyor reads from a results table, made from the columns the table
 * has ({@code NULL} for those it lacks), and each row it selects read as a result. A table of the
 * user's with only seed 004's columns is read too: its source is made from the key prefix and the
 * key, and a row with no category in a table that cannot say a row is an error is an error whose
 * code was not kept.
 *
 * @param sql the select, with no condition; its first parameter is the key prefix when {@code
 *     sourcePrefix} is set
 * @param sourcePrefix the key prefix each row's source is made from, or {@code null} when the table
 *     keeps the source
 * @param saysErrors whether the table can say a row is an error ({@code status} or {@code
 *     error_code})
 * @param hasTime whether the table has a {@code time} column, which following rows needs
 * @param zoned whether that column holds instants ({@code timestamptz}); else it holds UTC
 *     wall-clock times, as the sink, whose sessions are in UTC, writes them
 */
record ResultsSelect(
    String sql, String sourcePrefix, boolean saysErrors, boolean hasTime, boolean zoned) {
  private static final List<String> COLUMNS =
      List.of(
          "image_key",
          "category",
          "confidence",
          "hostname",
          "time",
          "status",
          "error_code",
          "error",
          "model",
          "latency_ms",
          "source",
          "predictions");

  /** The select of the address's results table, or {@code null} while there is no table yet. */
  static ResultsSelect of(Connection c, PostgresConfig address) throws SQLException {
    Set<String> columns = Tables.columns(c, address.results());
    if (columns.isEmpty()) {
      return null;
    }
    List<String> wanted = new ArrayList<>();
    for (String col : COLUMNS) {
      wanted.add(columns.contains(col) ? col : "NULL AS " + col);
    }
    String sourcePrefix = null;
    if (!columns.contains("source") && !address.keyPrefix().isEmpty()) {
      // a table of the user's that keeps only the key: its image is key-prefix + key
      wanted.set(wanted.indexOf("NULL AS source"), "? || image_key AS source");
      sourcePrefix = address.keyPrefix();
    }
    boolean saysErrors = columns.contains("status") || columns.contains("error_code");
    String timeType = columns.contains("time") ? Tables.type(c, address.results(), "time") : null;
    boolean hasTime = "timestamp".equals(timeType) || "timestamptz".equals(timeType);
    boolean zoned = "timestamptz".equals(timeType);
    // when each row was stored, in microseconds since the epoch, whatever the column's type
    wanted.add(
        !hasTime
            ? "NULL::bigint AS conveyor_micros"
            : zoned
                ? "(extract(epoch FROM time) * 1000000)::bigint AS conveyor_micros"
                : "(extract(epoch FROM time AT TIME ZONE 'UTC') * 1000000)::bigint AS conveyor_micros");
    String sql = "SELECT " + String.join(", ", wanted) + " FROM " + address.results();
    return new ResultsSelect(sql, sourcePrefix, saysErrors, hasTime, zoned);
  }

  /** Sets the key prefix when the select takes it; returns the number of the next parameter. */
  int prefix(PreparedStatement st) throws SQLException {
    if (sourcePrefix == null) {
      return 1;
    }
    st.setString(1, sourcePrefix);
    return 2;
  }

  /**
   * A parameter of microseconds since the epoch as a value of the {@code time} column's own type,
   * so that a comparison with it uses the column's index and no client's time zone.
   */
  String timeBound() {
    return zoned
        ? "to_timestamp(?::float8 / 1000000)"
        : "(to_timestamp(?::float8 / 1000000) AT TIME ZONE 'UTC')";
  }

  /**
   * The current row as a result. Without a status or error_code column, a row with no category and
   * no predictions is an error whose code was not kept.
   */
  ClassifyResult result(ResultSet rs) throws SQLException {
    String key = rs.getString("image_key");
    String status = rs.getString("status");
    String errorCode = rs.getString("error_code");
    String host = rs.getString("hostname");
    float latency = rs.getFloat("latency_ms");
    Double latencyMs = rs.wasNull() ? null : (double) latency;
    boolean uncoded =
        !saysErrors && rs.getString("category") == null && rs.getString("predictions") == null;
    if ("error".equals(status) || errorCode != null || uncoded) {
      ErrorCode code;
      try {
        code = ErrorCode.valueOf(errorCode);
      } catch (RuntimeException e) {
        code = ErrorCode.INTERNAL;
      }
      String message = rs.getString("error");
      if (uncoded && message == null) {
        message = "an error; the results table has no error_code column to keep its code";
      }
      return new ClassifyResult(
          key,
          rs.getString("source"),
          ClassifyResult.Status.ERROR,
          rs.getString("model"),
          null,
          new ClassifyResult.Error(code, message),
          host,
          latencyMs);
    }
    List<Prediction> predictions;
    String top = rs.getString("predictions");
    if (top != null) {
      predictions = List.of(Json.read(top, Prediction[].class));
    } else {
      float confidence = rs.getFloat("confidence");
      predictions =
          rs.getString("category") == null
              ? List.of()
              : List.of(new Prediction(-1, rs.getString("category"), confidence));
    }
    return new ClassifyResult(
        key,
        rs.getString("source"),
        ClassifyResult.Status.OK,
        rs.getString("model"),
        predictions,
        null,
        host,
        latencyMs);
  }
}
