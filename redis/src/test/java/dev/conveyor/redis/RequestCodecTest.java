package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ImageRequest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestCodecTest {
  private static final byte[] IMAGE = {(byte) 0xFF, (byte) 0xD8, 0, 1, 2, (byte) 0x80, (byte) 0xFF};

  private static ImageRequest request() {
    return new ImageRequest("id-1", "cat.jpg", IMAGE, "image/jpeg", "reply:1", 0);
  }

  @Test
  void aStreamEntryThatIsNotARequestIsAnUnreadableRequestUnderItsOwnId() {
    Map<byte[], byte[]> fields = new LinkedHashMap<>();
    fields.put(RequestCodec.bytes("id"), RequestCodec.bytes("x-bad"));
    fields.put(RequestCodec.bytes("picture"), RequestCodec.bytes("nothing"));
    ImageRequest r = RequestCodec.fromEntry("images", "17-0", fields);
    assertThat(r.id()).isEqualTo("x-bad");
    assertThat(r.source()).isEqualTo("images@17-0");
    assertThat(r.contentType()).isEqualTo(ImageRequest.UNREADABLE);
    assertThat(new String(r.bytes(), StandardCharsets.UTF_8)).startsWith("not a Conveyor request");

    fields.remove(fields.keySet().iterator().next());
    assertThat(RequestCodec.fromEntry("images", "17-0", fields).id()).isEqualTo("17-0");
  }

  @Test
  void aReferenceTravelsInsteadOfBytesInJsonAndStreamFields() {
    ImageRequest ref = new ImageRequest("k-1", "s3://images/a.jpg", null, null, "replies", 0);
    for (ImageRequest back :
        new ImageRequest[] {
          RequestCodec.fromJson(RequestCodec.toJson(ref)),
          RequestCodec.fromFields(RequestCodec.toFields(ref))
        }) {
      assertThat(back.id()).isEqualTo("k-1");
      assertThat(back.hasBytes()).isFalse();
      assertThat(back.source()).isEqualTo("s3://images/a.jpg");
      assertThat(back.replyTo()).isEqualTo("replies");
    }
    assertThat(
            RequestCodec.fromJson(
                    "{\"id\":\"k-2\",\"ref\":\"s3://b/k.png\"}".getBytes(StandardCharsets.UTF_8))
                .source())
        .isEqualTo("s3://b/k.png");
    assertThatThrownBy(
            () -> RequestCodec.fromJson("{\"id\":\"k-3\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("or a \"ref\"");
  }

  @Test
  void jsonRoundTripKeepsEveryFieldAndTheBytes() {
    ImageRequest back = RequestCodec.fromJson(RequestCodec.toJson(request()));
    assertThat(back.id()).isEqualTo("id-1");
    assertThat(back.source()).isEqualTo("cat.jpg");
    assertThat(back.bytes()).isEqualTo(IMAGE);
    assertThat(back.contentType()).isEqualTo("image/jpeg");
    assertThat(back.replyTo()).isEqualTo("reply:1");
  }

  @Test
  void theModelARequestNamesTravelsInEveryFormAndNoneMeansTheDefault() {
    ImageRequest named = request().withModel("fashion");
    assertThat(RequestCodec.fromJson(RequestCodec.toJson(named)).model()).isEqualTo("fashion");
    assertThat(RequestCodec.fromFields(RequestCodec.toFields(named)).model()).isEqualTo("fashion");
    ImageRequest ref = ImageRequest.ofKey("s3://images/a.jpg").withModel("resnet");
    assertThat(RequestCodec.fromJson(RequestCodec.toJson(ref)).model()).isEqualTo("resnet");
    assertThat(RequestCodec.fromFields(RequestCodec.toFields(ref)).model()).isEqualTo("resnet");
    assertThat(RequestCodec.fromJson(RequestCodec.toJson(request())).model()).isNull();
    assertThat(new String(RequestCodec.toJson(request()), StandardCharsets.UTF_8))
        .doesNotContain("\"model\"");
  }

  @Test
  void streamFieldsCarryRawBytes() {
    Map<byte[], byte[]> fields = RequestCodec.toFields(request());
    ImageRequest back = RequestCodec.fromFields(fields);
    assertThat(back.bytes()).isEqualTo(IMAGE);
    assertThat(back.replyTo()).isEqualTo("reply:1");
  }

  @Test
  void seed003sJsonFormIsAccepted() {
    String json =
        "{\"id\":\"k\",\"image\":\"" + java.util.Base64.getEncoder().encodeToString(IMAGE) + "\"}";
    ImageRequest r = RequestCodec.fromJson(json.getBytes(StandardCharsets.UTF_8));
    assertThat(r.id()).isEqualTo("k");
    assertThat(r.bytes()).isEqualTo(IMAGE);
    assertThat(r.replyTo()).isNull();
  }

  @Test
  void aStreamEntryHoldingTheJsonFormIsAccepted() {
    Map<byte[], byte[]> fields = new LinkedHashMap<>();
    fields.put("data".getBytes(StandardCharsets.UTF_8), RequestCodec.toJson(request()));
    assertThat(RequestCodec.fromFields(fields).bytes()).isEqualTo(IMAGE);
  }

  @Test
  void aMissingIdGetsOne() {
    String json = "{\"image\":\"AAEC\"}";
    assertThat(RequestCodec.fromJson(json.getBytes(StandardCharsets.UTF_8)).id()).isNotBlank();
  }

  @Test
  void whatIsNotARequestSaysWhy() {
    assertThatThrownBy(() -> RequestCodec.fromJson("hello".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("not a JSON request");
    assertThatThrownBy(() -> RequestCodec.fromJson("{\"id\":1}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("\"image\"");
    assertThatThrownBy(
            () -> RequestCodec.fromJson("{\"image\":\"@@@\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("not base64");
    Map<byte[], byte[]> fields = new LinkedHashMap<>();
    fields.put("a".getBytes(StandardCharsets.UTF_8), new byte[] {1});
    fields.put("b".getBytes(StandardCharsets.UTF_8), new byte[] {2});
    assertThatThrownBy(() -> RequestCodec.fromFields(fields))
        .hasMessageContaining("has an \"image\" or a \"ref\" field");
  }

  @Test
  void base64WithoutPaddingOrWithMimeLineBreaksIsRead() {
    byte[] image = new byte[200];
    for (int i = 0; i < image.length; i++) {
      image[i] = (byte) (i * 7);
    }
    String mime = java.util.Base64.getMimeEncoder().encodeToString(image).replace("\r\n", "\\n");
    String unpadded = java.util.Base64.getEncoder().withoutPadding().encodeToString(IMAGE);
    for (String base64 : new String[] {mime, unpadded}) {
      String json = "{\"image\":\"" + base64 + "\",\"id\":\"k\"}";
      assertThat(RequestCodec.fromJson(json.getBytes(StandardCharsets.UTF_8)).bytes())
          .isEqualTo(base64 == mime ? image : IMAGE);
    }
  }

  @Test
  void anImageThatIsNotAStringIsNotBase64AndOtherFieldsMayHoldAnything() {
    for (String image : new String[] {"12", "{\"a\":\"AAEC\"}", "[\"AAEC\"]", "true"}) {
      assertThatThrownBy(
              () ->
                  RequestCodec.fromJson(
                      ("{\"image\":" + image + "}").getBytes(StandardCharsets.UTF_8)))
          .hasMessage("the request's \"image\" is not base64");
    }
    String json = "{\"meta\":{\"image\":\"@@\",\"x\":[1,2]},\"id\":7,\"image\":\"AAEC\"}";
    ImageRequest r = RequestCodec.fromJson(json.getBytes(StandardCharsets.UTF_8));
    assertThat(r.id()).isEqualTo("7");
    assertThat(r.bytes()).containsExactly(0, 1, 2);
  }

  @Test
  void aBadBase64CharacterIsNotEchoed() {
    assertThatThrownBy(
            () ->
                RequestCodec.fromJson(
                    "{\"image\":\"AA\u00e9<script>\"}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("the request's \"image\" is not base64");
  }
}
