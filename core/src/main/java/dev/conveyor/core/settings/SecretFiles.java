package dev.conveyor.core.settings;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Secrets read from the files a setting names ({@code password-file=}, {@code sasl-jaas-file=}), so
 * that they stay out of command lines. A file is read up to 64 KiB, as UTF-8; every error names the
 * setting and the file, never a byte of what is in it.
 */
public final class SecretFiles {
  /** The most a secret's file may hold. */
  public static final int MAX_BYTES = 64 * 1024;

  private SecretFiles() {}

  /**
   * The whole file as text.
   *
   * @param setting what names the file, for errors: {@code the Redis URI's password-file}
   * @param kind what the file should be, for the error of one that is too large: {@code a password
   *     file}
   * @throws ConveyorException {@code INVALID_SETTING} for a file that cannot be read, is over 64
   *     KiB or is not UTF-8
   */
  public static String text(Path file, String setting, String kind) {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      throw failed(setting, file, "cannot be read (" + e.getClass().getSimpleName() + ")");
    }
    if (bytes.length > MAX_BYTES) {
      throw failed(setting, file, "is over 64 KiB: not " + kind);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw failed(setting, file, "is not UTF-8 text");
    }
  }

  /**
   * The file's first line, without its line break.
   *
   * @throws ConveyorException {@code INVALID_SETTING} as {@link #text}, and for an empty first line
   */
  public static String firstLine(Path file, String setting) {
    String line = text(file, setting, "a password file").lines().findFirst().orElse("");
    if (line.isEmpty()) {
      throw failed(setting, file, "has an empty first line");
    }
    return line;
  }

  /** The error of a secret's file: the setting, the file, and why; never the file's text. */
  public static ConveyorException failed(String setting, Path file, String why) {
    return new ConveyorException(ErrorCode.INVALID_SETTING, setting + " " + file + " " + why);
  }
}
