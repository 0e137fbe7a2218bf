package dev.conveyor.bench;

/**
 * A measured stage: images per second, and the CPU time spent per image meanwhile, in milliseconds.
 * CPU time per image does not move with what else shares the machine, as images per second does.
 */
public record Rate(double ips, double cpuMsPerImage) {}
