package dev.conveyor.jdbc;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.postgresql.PGConnection;

/**
 * Follows a results table: hands on the rows stored from now on (by the database's clock), in the
 * order of their {@code time}, reading them in pages through {@link PostgresResults}. It listens on
 * the channel sinks notify when they store results, so that it wakes at once, and looks at least
 * every half second; a lost connection is made again.
 */
final class ResultsFollower {
  /**
   * Rows are followed by their {@code time}, which is when their transaction started, not when it
   * committed: a row can become visible after rows with a later time. Each poll reads again this
   * far back and skips the keys it has handed on already.
   */
  static final long OVERLAP_MS = 2_000;

  private final PostgresConfig address;
  private final PostgresResults results;

  ResultsFollower(PostgresConfig address, PostgresResults results) {
    this.address = address;
    this.results = results;
  }

  /**
   * Hands on rows stored from now on until {@code running} turns false. A row whose transaction
   * took longer than {@link #OVERLAP_MS} to commit can be missed; rows are not handed on twice.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when the table has no {@code time} column of
   *     a timestamp type
   */
  void follow(BooleanSupplier running, Consumer<String> json) {
    Connection listener = null;
    Long from = null;
    Map<String, Long> seen = new HashMap<>();
    boolean behind = false;
    boolean noTime = false;
    try {
      while (running.getAsBoolean()) {
        try {
          if (listener == null) {
            listener = Database.connect(address, "follow");
            try (Statement s = listener.createStatement()) {
              s.execute("LISTEN " + Tables.resultsChannel(address.results()));
              if (from == null) {
                try (ResultSet rs =
                    s.executeQuery("SELECT (extract(epoch FROM now()) * 1000000)::bigint")) {
                  rs.next();
                  from = rs.getLong(1);
                }
              }
            }
          }
          ResultsSelect select = results.select();
          if (select != null && !select.hasTime()) {
            noTime = true;
          }
          if (noTime) {
            break;
          }
          long newest = from;
          // a full page means more are waiting: read on from its end before looking back again
          List<PostgresResults.Row> rows =
              results.storedAfter(newest - (behind ? 0 : OVERLAP_MS * 1000), "");
          for (PostgresResults.Row row : rows) {
            long time = row.micros();
            newest = Math.max(newest, time);
            if (seen.putIfAbsent(row.key(), time) == null) {
              json.accept(row.json());
            }
          }
          long keep = newest - OVERLAP_MS * 1000;
          seen.values().removeIf(t -> t < keep);
          from = newest;
          behind = rows.size() == PostgresResults.PAGE;
          if (!behind) {
            listener.unwrap(PGConnection.class).getNotifications(500);
          }
        } catch (SQLException | RuntimeException e) {
          if (!running.getAsBoolean()) {
            return;
          }
          Database.close(listener);
          listener = null;
          Thread.sleep(500);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      Database.close(listener);
    }
    if (noTime) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          ("the results table %s has no time column of a timestamp type, which following its"
                  + " rows needs: ALTER TABLE %s ADD COLUMN time TIMESTAMPTZ (Conveyor's sink"
                  + " writes it on every row)")
              .formatted(address.results(), address.results()));
    }
  }
}
