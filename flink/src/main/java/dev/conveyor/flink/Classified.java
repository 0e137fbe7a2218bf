package dev.conveyor.flink;

/**
 * A result on its way to a sink: the request's id, where its producer waits for it (or {@code
 * null}), whether it is an error, and the result's JSON, as every other Conveyor path writes it.
 */
public record Classified(String id, String replyTo, boolean ok, String json) {}
