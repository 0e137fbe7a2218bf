package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * KServe v2 requests whose declared sizes or whose JSON would cost more memory than their bytes:
 * each is refused with its code before it is held, and one that fits is read whatever its JSON's
 * spelling.
 */
@Timeout(30)
class KServeInputsTest {
  private static final KServeInputs.Limits LIMITS =
      new KServeInputs.Limits(8, new int[] {1, 28, 28});

  private static KServeInputs read(String json) {
    return KServeInputs.read(json.getBytes(StandardCharsets.UTF_8), null, LIMITS);
  }

  private static void refused(String json, ErrorCode code, String says) {
    assertThatThrownBy(() -> read(json))
        .isInstanceOfSatisfying(ConveyorException.class, e -> assertThat(e.code()).isEqualTo(code))
        .hasMessageContaining(says);
  }

  private static String repeat(String item, int n) {
    return String.join(",", java.util.Collections.nCopies(n, item));
  }

  @Test
  void aCompactTensorIsReadThoughItsJsonIsShorterThanItsBytes() {
    // 784 zeros as JSON.stringify writes them: fewer bytes than the FP32 tensor they stand for
    KServeInputs in =
        read(
            "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],"
                + "\"data\":["
                + repeat("0", 784)
                + "]}]}");
    assertThat(in.images()).hasSize(1);
    assertThat(in.images().get(0).bytes()).hasSize(784 * 4);
  }

  @Test
  void overflowingAndNegativeShapesAreRefusedBeforeAnythingIsMade() {
    refused(
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\","
            + "\"shape\":[2147483647,65536,65536,65536,65536],\"data\":[]}]}",
        ErrorCode.BAD_TENSOR,
        "at most 8 tensor items");
    refused(
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\","
            + "\"shape\":[1,65536,65536,65536,65536],\"data\":[]}]}",
        ErrorCode.BAD_TENSOR,
        "too large");
    refused(
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\",\"shape\":[1,-784],\"data\":[]}]}",
        ErrorCode.BAD_TENSOR,
        "whole sizes");
    refused(
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"UINT8\",\"shape\":[1,1,16,49],"
            + "\"data\":[0]}]}",
        ErrorCode.BAD_TENSOR,
        "784");
  }

  @Test
  void aHeaderOfTooManyValuesOrImagesIsRefused() {
    refused(
        "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"AA==\"]}],"
            + "\"parameters\":{\"x\":["
            + repeat("{}", KServeHeader.MAX_VALUES + 1)
            + "]}}",
        ErrorCode.BAD_REQUEST,
        "over 10000 values");
    refused(
        "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[9],\"data\":["
            + repeat("\"AA==\"", 9)
            + "]}]}",
        ErrorCode.BAD_REQUEST,
        "at most 8 images");
  }

  @Test
  void errorsDoNotQuoteTheRequest() {
    assertThatThrownBy(() -> read("{\"inputs\": [nonsense-<script>]}"))
        .isInstanceOf(ConveyorException.class)
        .hasMessageNotContaining("nonsense")
        .hasMessageNotContaining("<script>");
    assertThatThrownBy(
            () ->
                read(
                    "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"<b>X</b>\",\"shape\":[1,784],"
                        + "\"data\":[]}]}"))
        .isInstanceOf(ConveyorException.class)
        .hasMessageNotContaining("<b>");
  }
}
