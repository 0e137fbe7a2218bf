package dev.conveyor.bench;

import org.HdrHistogram.Histogram;

/**
 * One load through a pipeline: what carried it (for the table), results per second in the measured
 * window, the latency of each result in microseconds, the mean batch the worker ran, and the CPU
 * time per result of everything in this process but the load itself (the sending thread and the
 * load's client threads), in milliseconds.
 */
record Measured(
    String name, double ips, Histogram latency, double meanBatch, double cpuMsPerImage) {}
