package dev.conveyor.bench;

import org.HdrHistogram.Histogram;

/**
 * One load through a pipeline: what carried it (for the table), results per second in the measured
 * window, the latency of each result in microseconds, and the mean batch the worker ran.
 */
record Measured(String name, double ips, Histogram latency, double meanBatch) {}
