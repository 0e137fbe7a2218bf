package dev.conveyor.flink;

/**
 * A result on its way to a sink: the request's id, where its producer waits for it (or {@code
 * null}), whether it is an error, the result's JSON, as every other Conveyor path writes it, and
 * the source entry the sink acknowledges once it has stored the result ({@link Incoming#entry}).
 */
public record Classified(String id, String replyTo, boolean ok, String json, String entry) {}
