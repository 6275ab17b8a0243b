package org.aiwae.train;

/**
 * A line of {@code timings.jsonl}, the one file of a run folder that is not reproducible: how long
 * epoch {@code epoch} took ({@code seconds} of training, {@code boundSeconds} for the held-out
 * bound), in how many {@code attempts}, and when its checkpoint was written ({@code finished}, UTC, ISO 8601).
 */
public record EpochTiming(int epoch, int attempts, double seconds, double examplesPerS, double boundSeconds, String finished) {}
