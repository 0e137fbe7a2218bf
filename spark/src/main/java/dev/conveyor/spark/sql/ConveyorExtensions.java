package dev.conveyor.spark.sql;

import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import scala.Tuple3;
import scala.collection.immutable.Seq;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Conveyor's functions in Spark SQL: {@code classify(content)}, over a BINARY column (the {@code
 * content} of Spark's {@code binaryFile} source, a Kafka record's {@code value}), giving a struct
 * of label, score, index, top-k, model and error. The model is run on batches of rows in each
 * executor, one model per executor, with the settings of the session's {@code spark.conveyor.*}
 * options ({@code spark.conveyor.model}, {@code spark.conveyor.batch}, …).
 *
 * <pre>{@code
 * SparkSession spark = SparkSession.builder()
 *     .config("spark.sql.extensions", "dev.conveyor.spark.sql.ConveyorExtensions")
 *     .config("spark.conveyor.model", "/models/resnet50.onnx")
 *     .getOrCreate();
 * spark.sql("SELECT path, classify(content).label FROM binaryFile.`/images`");
 * }</pre>
 */
public final class ConveyorExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectFunction(
        new Tuple3<>(
            FunctionIdentifier.apply("classify"),
            new ExpressionInfo(
                Classify.class.getName(),
                null,
                "classify",
                "classify(content) - the image's classes by the model spark.conveyor.model names:"
                    + " a struct of label, score, index, top_k, model, version and error",
                "",
                "\n    Examples:\n      > SELECT classify(content).label FROM binaryFile.`/images`;\n",
                "",
                "misc_funcs",
                "",
                "",
                ""),
            ConveyorExtensions::classify));
    extensions.injectOptimizerRule(session -> new ExtractClassify());
    extensions.injectPlannerStrategy(ClassifyStrategy::new);
    return BoxedUnit.UNIT;
  }

  private static Expression classify(Seq<Expression> arguments) {
    if (arguments.size() != 1) {
      throw new IllegalArgumentException(
          "classify takes one argument, the image's bytes: classify(content); it was given "
              + arguments.size());
    }
    return new Classify(arguments.head());
  }
}
