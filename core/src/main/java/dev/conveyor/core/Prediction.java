package dev.conveyor.core;

/**
 * One class of a result's top-k.
 *
 * @param index the class's position in the model's output
 * @param label its name, or the index as text when the model has no labels
 * @param score probability (softmax) or raw model output, as configured
 */
public record Prediction(int index, String label, float score) {}
