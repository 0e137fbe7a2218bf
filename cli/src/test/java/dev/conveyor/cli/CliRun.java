package dev.conveyor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** Runs the conveyor command in this JVM and keeps what it printed. */
record CliRun(int exitCode, String out, String err) {
  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new CliRun(code, out.toString(), err.toString());
  }

  /** Each stdout line that is a JSON object, parsed. */
  List<JsonNode> jsonLines() {
    return out.lines()
        .filter(l -> l.startsWith("{"))
        .map(
            l -> {
              try {
                return Json.mapper().readTree(l);
              } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new AssertionError("not JSON: " + l, e);
              }
            })
        .toList();
  }
}
