package dev.conveyor.spark.sql;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;
import scala.PartialFunction;
import scala.Product;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractPartialFunction;

/** What Java needs to speak to Catalyst's Scala: sequences, partial functions, equality. */
final class Scala {
  private Scala() {}

  @SafeVarargs
  static <T> Seq<T> seq(T... items) {
    return CollectionConverters.asScala(Arrays.asList(items)).toList();
  }

  @SuppressWarnings("unchecked")
  static <T> Seq<T> append(Seq<? extends T> seq, T item) {
    return (Seq<T>) (Object) seq.appended(item);
  }

  @SuppressWarnings("unchecked")
  static <T> Seq<T> widen(Seq<? extends T> seq) {
    return (Seq<T>) seq;
  }

  /** A partial function defined on the instances of {@code type}. */
  static <A, B> PartialFunction<A, B> on(Class<?> type, Function<A, B> f) {
    return new AbstractPartialFunction<>() {
      @Override
      public boolean isDefinedAt(A a) {
        return type.isInstance(a);
      }

      @Override
      @SuppressWarnings("unchecked")
      public <A1 extends A, B1> B1 applyOrElse(A1 a, scala.Function1<A1, B1> otherwise) {
        return type.isInstance(a) ? (B1) f.apply(a) : otherwise.apply(a);
      }
    };
  }

  /**
   * A case class's equality, which Catalyst's tree nodes rely on to find the same expression or
   * plan twice; written in Java they get only identity.
   */
  static boolean sameProduct(Product a, Object o) {
    if (a == o) {
      return true;
    }
    if (o == null || o.getClass() != a.getClass()) {
      return false;
    }
    Product b = (Product) o;
    for (int i = 0; i < a.productArity(); i++) {
      if (!Objects.equals(a.productElement(i), b.productElement(i))) {
        return false;
      }
    }
    return true;
  }
}
