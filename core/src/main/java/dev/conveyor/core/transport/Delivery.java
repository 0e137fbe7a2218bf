package dev.conveyor.core.transport;

import dev.conveyor.core.ImageRequest;

/**
 * A request as a transport handed it out: the request, how many times it has been delivered (1 the
 * first time), and the transport's own receipt for acknowledging it.
 */
public record Delivery(ImageRequest request, int attempt, Object receipt) {}
