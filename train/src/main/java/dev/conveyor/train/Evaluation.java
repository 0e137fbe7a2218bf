package dev.conveyor.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a classifier did on labelled images: the confusion matrix ({@code
 * confusion[actual][predicted]}), overall and per-class accuracy.
 */
public final class Evaluation {
  private final List<String> classes;
  private final long[][] confusion;
  private final long[] unanswered;

  public Evaluation(List<String> classes) {
    this.classes = List.copyOf(classes);
    this.confusion = new long[classes.size()][classes.size()];
    this.unanswered = new long[classes.size()];
  }

  /** The network's accuracy on {@code data}, in inference mode. */
  static Evaluation of(FashionTrainer trainer, FashionMnist data) {
    Evaluation e = new Evaluation(FashionMnist.CLASSES);
    int classes = FashionMnist.CLASSES.size();
    for (int from = 0; from < data.count(); from += 500) {
      int n = Math.min(500, data.count() - from);
      float[] logits = trainer.logits(data, from, n);
      for (int k = 0; k < n; k++) {
        e.add(data.label(from + k), argMax(logits, k * classes, classes));
      }
    }
    return e;
  }

  static int argMax(float[] values, int offset, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (values[offset + i] > values[offset + best]) {
        best = i;
      }
    }
    return best;
  }

  /** Counts one image; a {@code predicted} of -1 (no prediction) counts as wrong. */
  public synchronized void add(int actual, int predicted) {
    if (predicted < 0) {
      unanswered[actual]++;
    } else {
      confusion[actual][predicted]++;
    }
  }

  public List<String> classes() {
    return classes;
  }

  public synchronized long[][] confusion() {
    long[][] copy = new long[confusion.length][];
    for (int i = 0; i < confusion.length; i++) {
      copy[i] = confusion[i].clone();
    }
    return copy;
  }

  /** Images counted, including those that got no prediction. */
  public synchronized long total() {
    long n = 0;
    for (int i = 0; i < confusion.length; i++) {
      n += unanswered[i];
      for (long v : confusion[i]) {
        n += v;
      }
    }
    return n;
  }

  public synchronized double accuracy() {
    long right = 0;
    for (int i = 0; i < confusion.length; i++) {
      right += confusion[i][i];
    }
    long total = total();
    return total == 0 ? 0 : (double) right / total;
  }

  /** Accuracy (recall) per class, by class name, in class order. */
  public synchronized Map<String, Double> perClass() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < confusion.length; i++) {
      long row = unanswered[i];
      for (long v : confusion[i]) {
        row += v;
      }
      out.put(classes.get(i), row == 0 ? 0 : (double) confusion[i][i] / row);
    }
    return out;
  }
}
