package dev.conveyor.redis;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.SecretFiles;
import io.lettuce.core.RedisURI;
import io.lettuce.core.StaticCredentialsProvider;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Redis password kept out of the command line, where every local user can read it: the first line
 * of the URI's {@code password-file}, else the {@value #VARIABLE} environment variable. With
 * either, the URI's user part names the ACL user ({@code redis://conveyor@host}); without them a
 * bare user part stays what Lettuce and {@code redis-cli} make of it, a password.
 */
final class RedisPassword {
  /** The environment variable a password may come from. */
  static final String VARIABLE = "CONVEYOR_REDIS_PASSWORD";

  private static final Pattern USER_INFO =
      Pattern.compile("^[a-z]+://([^/@?#]*)@", Pattern.CASE_INSENSITIVE);

  private RedisPassword() {}

  /**
   * Gives {@code uri} the password from {@code file} or the environment when its text, {@code
   * base}, carries none.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for a file that cannot be read or is empty,
   *     or for a password both in the URI and in a file; never with the password in it
   */
  static void apply(RedisURI uri, String base, Path file, Map<String, String> environment) {
    Matcher m = USER_INFO.matcher(base);
    String userInfo = m.find() ? m.group(1) : "";
    int colon = userInfo.indexOf(':');
    String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
    boolean inline = colon >= 0 && colon < userInfo.length() - 1;
    if (inline && file != null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the Redis URI has a password and a password-file: give one (the file keeps it out of ps)");
    }
    String password = file != null ? firstLine(file) : environment.get(VARIABLE);
    if (inline || password == null || password.isEmpty()) {
      return;
    }
    uri.setCredentialsProvider(
        new StaticCredentialsProvider(user.isEmpty() ? null : user, password.toCharArray()));
  }

  /** The file's first line, without its line break; the errors name the file, never its text. */
  static String firstLine(Path file) {
    return SecretFiles.firstLine(file, "the Redis URI's password-file");
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }
}
