package dev.conveyor.core.fetch;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;

/**
 * How workers fetch images that requests refer to ({@code s3://bucket/key}) instead of carrying
 * them, and which references they may fetch at all ({@link FetchAllow}). Credentials are never
 * settings: they come from the store's own standard chain (for S3, the AWS SDK's: environment,
 * system properties, {@code ~/.aws}, the instance or container role).
 */
public final class FetchSettings {
  private FetchSettings() {}

  public static final Setting<FetchAllow> FETCH_ALLOW =
      new Setting<>(
          "fetch-allow",
          "RULES",
          "the references requests may name, comma-separated: s3:// (any object the credentials reach), s3://bucket, s3://bucket/prefix, file:/folder (regular files under it, links resolved); none for no references. Anything else is answered NOT_FOUND, as a missing file or object is",
          "s3://",
          FetchAllow.parse("s3://"),
          FetchAllow::parse,
          "a comma-separated list of s3://bucket/prefix and file:/folder rules, or none",
          false);
  public static final Setting<Integer> FETCH_TIMEOUT =
      Setting.integer(
          "fetch-timeout",
          30,
          1,
          "seconds a worker waits for one referenced image (a file or an object, retries included) before its FETCH_FAILED result");
  public static final Setting<String> S3_ENDPOINT =
      Setting.text(
              "s3-endpoint",
              "URL",
              "an S3-compatible store's endpoint (MinIO, Ceph, s3proxy); else AWS's own, or AWS_ENDPOINT_URL_S3",
              s -> s.matches("https?://.+"),
              "an http:// or https:// URL")
          .withDefault(null, "AWS's");
  public static final Setting<String> S3_REGION =
      Setting.text(
              "s3-region",
              "REGION",
              "the bucket's region; else the AWS chain's (AWS_REGION, ~/.aws/config), or us-east-1 with --s3-endpoint",
              s -> s.matches("[a-z0-9-]+"),
              "a region name such as eu-west-1")
          .withDefault(null, "the AWS chain's");
  public static final Setting<Boolean> S3_PATH_STYLE =
      Setting.flag(
          "s3-path-style",
          "address buckets as http://host/bucket/key instead of http://bucket.host/key (most S3-compatible stores need it)");
  public static final Setting<Integer> FETCH_ATTEMPTS =
      Setting.integer(
          "fetch-attempts",
          4,
          1,
          "tries per fetch when the store throttles or fails (5xx, timeouts), with backoff, before a FETCH_FAILED result");

  public static final SettingGroup SETTINGS =
      SettingGroup.of(
          "Fetching images by reference (s3://, file:)",
          FETCH_ALLOW,
          FETCH_TIMEOUT,
          S3_ENDPOINT,
          S3_REGION,
          S3_PATH_STYLE,
          FETCH_ATTEMPTS);
}
