package dev.conveyor.kafka;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * How the records of a requests topic are read: Conveyor's own format ({@code requests=conveyor},
 * see {@link Records}), or bare object keys ({@code requests=keys}), as seed 004's producer sends
 * them: the value is the key as text, with no record key and no headers. A bare key's request has
 * the key itself as its id and {@code keyPrefix + key} as the reference the worker fetches (still
 * subject to the worker's {@code --fetch-allow}).
 *
 * <p>With {@code keys}, a record that carries a {@code content-ref}, {@code content-type} or {@code
 * source} header is still read in Conveyor's format, so that {@code conveyor produce}, {@code
 * serve}'s uploads and other Conveyor producers can share the topic.
 *
 * @param keys whether values without Conveyor's headers are bare object keys
 * @param keyPrefix prepended to a bare key to make its reference ({@code s3://bucket/}); empty: the
 *     value is the reference itself
 */
public record RequestFormat(boolean keys, String keyPrefix) implements Serializable {
  /** Conveyor's own record format. */
  public static final RequestFormat CONVEYOR = new RequestFormat(false, "");

  /** The most bytes of a bare key: S3's limit on an object key. */
  public static final int MAX_KEY_BYTES = 1024;

  /** The most bytes of a {@code content-ref} value: a key with its store and bucket, or a path. */
  public static final int MAX_REF_BYTES = 4096;

  public RequestFormat {
    keyPrefix = keyPrefix == null ? "" : keyPrefix;
  }

  /**
   * Whether a key prefix is one a worker can fetch under: {@code scheme://bucket/…}, {@code file:…}
   * or an absolute path, with no control characters.
   */
  static boolean validPrefix(String prefix) {
    if (prefix.isEmpty() || prefix.equals("none")) {
      return true;
    }
    if (controlCharacter(prefix) >= 0) {
      return false;
    }
    return prefix.matches("[a-zA-Z][a-zA-Z0-9+.-]*://[^/]+/.*")
        || prefix.startsWith("file:/")
        || prefix.startsWith("/");
  }

  /**
   * Why {@code value} is not a bare key this format accepts, or {@code null} when it is one. The
   * reason never repeats the value's bytes.
   */
  String keyProblem(String key) {
    if (!keyPrefix.isEmpty() && key.startsWith("/")) {
      return "it starts with '/', which would leave key-prefix";
    }
    for (String segment : key.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return "it has a '.' or '..' segment, which would leave key-prefix";
      }
    }
    return null;
  }

  /**
   * The text of a value that must be a key or reference: valid UTF-8, not empty, at most {@code
   * maxBytes}, with no control characters; else {@code null}, and {@code why[0]} says why (without
   * the value's bytes).
   */
  static String text(byte[] value, int maxBytes, String[] why) {
    if (value.length == 0) {
      why[0] = "it is empty";
      return null;
    }
    if (value.length > maxBytes) {
      why[0] = "it is %d bytes, more than %d".formatted(value.length, maxBytes);
      return null;
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(value))
              .toString();
    } catch (CharacterCodingException e) {
      why[0] = "it is not UTF-8 text";
      return null;
    }
    int at = controlCharacter(text);
    if (at >= 0) {
      why[0] = "it holds a control character (at character %d)".formatted(at);
      return null;
    }
    return text;
  }

  /**
   * The index of the first control character of {@code s}: C0, DEL and C1 controls, line and
   * paragraph separators, byte-order marks and the bidirectional controls that make text display in
   * another order than it is; {@code -1} when there is none.
   */
  static int controlCharacter(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.getType(c) == Character.CONTROL
          || c == '\u2028'
          || c == '\u2029'
          || c == '\uFEFF'
          || c == '\u061C'
          || c == '\u200E'
          || c == '\u200F'
          || (c >= '\u202A' && c <= '\u202E')
          || (c >= '\u2066' && c <= '\u2069')) {
        return i;
      }
    }
    return -1;
  }
}
