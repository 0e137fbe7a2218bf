package dev.conveyor.redis;

import com.fasterxml.jackson.core.Base64Variant;
import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The wire format of requests. In a list or a channel a request is one JSON string: {@code
 * {"id":…,"image":"<base64>","content_type":…,"reply_to":…,"source":…,"model":…}} (only {@code
 * image} is required, which also accepts seed 003's {@code {"id":…,"image":…}}). In a stream a
 * request is an entry whose fields are {@code id}, {@code image} (the raw bytes), and optionally
 * {@code content_type}, {@code reply_to}, {@code source}; an entry with a single field holding the
 * JSON form is read too.
 */
public final class RequestCodec {
  static final String ID = "id";
  static final String IMAGE = "image";
  static final String CONTENT_TYPE = "content_type";
  static final String REPLY_TO = "reply_to";
  static final String SOURCE = "source";

  /** The model the request asks for, by its name in a model repository; none: the default. */
  static final String MODEL = "model";

  /** Instead of {@code image}: where the worker fetches it, such as {@code s3://bucket/key}. */
  static final String REF = "ref";

  private static final Base64Variant BASE64 =
      Base64Variants.MIME_NO_LINEFEEDS.withReadPadding(
          Base64Variant.PaddingReadBehaviour.PADDING_ALLOWED);

  private RequestCodec() {}

  public static byte[] toJson(ImageRequest r) {
    ObjectNode node = Json.mapper().createObjectNode();
    node.put(ID, r.id());
    node.put(SOURCE, r.source());
    if (r.contentType() != null) {
      node.put(CONTENT_TYPE, r.contentType());
    }
    if (r.replyTo() != null) {
      node.put(REPLY_TO, r.replyTo());
    }
    if (r.model() != null) {
      node.put(MODEL, r.model());
    }
    if (r.hasBytes()) {
      node.put(IMAGE, Base64.getEncoder().encodeToString(r.bytes()));
    } else {
      node.put(REF, r.source());
    }
    return Json.write(node).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * @throws IllegalArgumentException saying what is wrong with the message
   */
  public static ImageRequest fromJson(byte[] message) {
    // read as it streams by: the image's base64 decodes straight from the message's bytes, with no
    // tree, string or second copy of a text that is most of the message
    Map<String, String> fields = new HashMap<>();
    byte[] image = null;
    boolean object;
    try (JsonParser p = Json.mapper().createParser(message)) {
      object = p.nextToken() == JsonToken.START_OBJECT;
      while (object && p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (IMAGE.equals(name)) {
          image = value == JsonToken.VALUE_NULL ? null : base64(p, value);
        } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
          p.skipChildren();
          fields.put(name, "");
        } else {
          fields.put(name, value == JsonToken.VALUE_NULL ? null : p.getText());
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("not a JSON request: " + Json.malformed(e));
    }
    if (object && image == null && fields.get(REF) != null) {
      return reference(
              fields.get(ID), fields.get(REF), fields.get(CONTENT_TYPE), fields.get(REPLY_TO))
          .withModel(fields.get(MODEL));
    }
    if (!object || image == null) {
      throw new IllegalArgumentException(
          "a request is a JSON object with an \"image\" (base64) field, or a \"ref\" to fetch it by");
    }
    return request(
            fields.get(ID),
            image,
            fields.get(CONTENT_TYPE),
            fields.get(REPLY_TO),
            fields.get(SOURCE))
        .withModel(fields.get(MODEL));
  }

  /** The image field's bytes; padding optional, and MIME line breaks are skipped. */
  private static byte[] base64(JsonParser p, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_STRING) {
      try {
        return p.getBinaryValue(BASE64);
      } catch (StreamReadException e) {
        // Jackson's message quotes the offending character: say what is wrong without it
      }
    } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
      p.skipChildren();
    }
    throw new IllegalArgumentException("the request's \"image\" is not base64");
  }

  public static Map<byte[], byte[]> toFields(ImageRequest r) {
    Map<byte[], byte[]> fields = new LinkedHashMap<>();
    fields.put(bytes(ID), bytes(r.id()));
    fields.put(bytes(SOURCE), bytes(r.source()));
    if (r.contentType() != null) {
      fields.put(bytes(CONTENT_TYPE), bytes(r.contentType()));
    }
    if (r.replyTo() != null) {
      fields.put(bytes(REPLY_TO), bytes(r.replyTo()));
    }
    if (r.model() != null) {
      fields.put(bytes(MODEL), bytes(r.model()));
    }
    if (r.hasBytes()) {
      fields.put(bytes(IMAGE), r.bytes());
    } else {
      fields.put(bytes(REF), bytes(r.source()));
    }
    return fields;
  }

  /**
   * @throws IllegalArgumentException saying what is wrong with the entry
   */
  public static ImageRequest fromFields(Map<byte[], byte[]> raw) {
    Map<String, byte[]> fields = new LinkedHashMap<>();
    raw.forEach((k, v) -> fields.put(new String(k, StandardCharsets.UTF_8), v));
    if (fields.containsKey(IMAGE)) {
      return request(
              string(fields.get(ID)),
              fields.get(IMAGE),
              string(fields.get(CONTENT_TYPE)),
              string(fields.get(REPLY_TO)),
              string(fields.get(SOURCE)))
          .withModel(string(fields.get(MODEL)));
    }
    if (fields.containsKey(REF)) {
      return reference(
              string(fields.get(ID)),
              string(fields.get(REF)),
              string(fields.get(CONTENT_TYPE)),
              string(fields.get(REPLY_TO)))
          .withModel(string(fields.get(MODEL)));
    }
    if (fields.size() == 1) {
      return fromJson(fields.values().iterator().next());
    }
    throw new IllegalArgumentException(
        "a stream request has an \"image\" or a \"ref\" field; this entry has neither");
  }

  /**
   * The request a stream entry carries; for an entry that is not a request, an {@link
   * ImageRequest#unreadable} one that says why, under the entry's {@code id} field when it has one
   * (else its id in the stream), so that it is answered rather than lost.
   */
  public static ImageRequest fromEntry(String stream, String entryId, Map<byte[], byte[]> raw) {
    try {
      return fromFields(raw);
    } catch (IllegalArgumentException e) {
      String id = null;
      for (Map.Entry<byte[], byte[]> f : raw.entrySet()) {
        if (ID.equals(string(f.getKey()))) {
          id = string(f.getValue());
        }
      }
      return ImageRequest.unreadable(
          id != null && !id.isBlank() ? id : entryId,
          stream + "@" + entryId,
          "not a Conveyor request: " + e.getMessage());
    }
  }

  private static ImageRequest reference(String id, String ref, String contentType, String replyTo) {
    if (ref == null || ref.isBlank()) {
      throw new IllegalArgumentException("the request's \"ref\" is empty");
    }
    String requestId = id != null && !id.isBlank() ? id : ImageRequest.newId();
    return new ImageRequest(requestId, ref, null, contentType, replyTo, System.nanoTime());
  }

  private static ImageRequest request(
      String id, byte[] image, String contentType, String replyTo, String source) {
    String requestId = id != null && !id.isBlank() ? id : ImageRequest.newId();
    String name = source != null && !source.isBlank() ? source : requestId;
    return new ImageRequest(requestId, name, image, contentType, replyTo, System.nanoTime());
  }

  public static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
