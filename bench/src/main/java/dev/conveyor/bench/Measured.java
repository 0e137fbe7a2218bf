package dev.conveyor.bench;

import org.HdrHistogram.Histogram;

/**
 * One load through a pipeline: what carried it (for the table), results per second in the measured
 * window, the latency of each result in microseconds, the mean batch the worker ran (NaN when the
 * workers run elsewhere), and the workers' CPU time per result in milliseconds: this process's less
 * the load's own threads, or that of the worker processes elsewhere.
 */
record Measured(
    String name, double ips, Histogram latency, double meanBatch, double cpuMsPerImage) {}
