package dev.conveyor.train;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import java.util.List;

/**
 * Conveyor's Fashion-MNIST network: two stages of two 3x3 convolutions with batch normalization,
 * each halving the image by max pooling, then a 128-unit dense layer and the 10 classes. About 0.4
 * M parameters and 19 M multiply-adds per image: accurate, and small enough to serve at thousands
 * of images per second on a CPU.
 */
public final class Cnn {
  private static final float EPSILON = 1e-5f;

  /** The layers, in order; the output is one logit per class. */
  public static final List<Layer> LAYERS =
      List.of(
          new Layer.Conv(32, 3, 1),
          new Layer.BatchNorm(EPSILON),
          new Layer.Relu(),
          new Layer.Conv(32, 3, 1),
          new Layer.BatchNorm(EPSILON),
          new Layer.Relu(),
          new Layer.MaxPool(2),
          new Layer.Conv(64, 3, 1),
          new Layer.BatchNorm(EPSILON),
          new Layer.Relu(),
          new Layer.Conv(64, 3, 1),
          new Layer.BatchNorm(EPSILON),
          new Layer.Relu(),
          new Layer.MaxPool(2),
          new Layer.Flatten(),
          new Layer.Dropout(0.3f),
          new Layer.Dense(128),
          new Layer.Relu(),
          new Layer.Dropout(0.3f),
          new Layer.Dense(FashionMnist.CLASSES.size()));

  private Cnn() {}

  /** The DJL block for {@link #LAYERS}, one child per layer. */
  public static SequentialBlock block() {
    SequentialBlock block = new SequentialBlock();
    for (Layer layer : LAYERS) {
      block.add(djl(layer));
    }
    return block;
  }

  private static Block djl(Layer layer) {
    if (layer instanceof Layer.Conv c) {
      return Conv2d.builder()
          .setFilters(c.filters())
          .setKernelShape(new Shape(c.kernel(), c.kernel()))
          .optPadding(new Shape(c.padding(), c.padding()))
          .build();
    } else if (layer instanceof Layer.BatchNorm b) {
      return BatchNorm.builder().optEpsilon(b.epsilon()).build();
    } else if (layer instanceof Layer.Relu) {
      return Activation.reluBlock();
    } else if (layer instanceof Layer.MaxPool p) {
      return Pool.maxPool2dBlock(new Shape(p.size(), p.size()), new Shape(p.size(), p.size()));
    } else if (layer instanceof Layer.Flatten) {
      return Blocks.batchFlattenBlock();
    } else if (layer instanceof Layer.Dropout d) {
      return Dropout.builder().optRate(d.rate()).build();
    } else if (layer instanceof Layer.Dense d) {
      return Linear.builder().setUnits(d.units()).build();
    }
    throw new IllegalArgumentException("unknown layer " + layer);
  }
}
