package dev.conveyor.s3;

import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.settings.Settings;
import java.net.URI;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * S3 clients from {@link FetchSettings}: the standard AWS credentials chain, the region from the
 * setting or the AWS chain, an endpoint override and path-style addressing for S3-compatible
 * stores, and the SDK's standard retries (throttling, 5xx, timeouts) with backoff.
 */
final class S3Clients {
  private S3Clients() {}

  static S3Client open(Settings settings) {
    S3ClientBuilder b =
        S3Client.builder()
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .forcePathStyle(settings.get(FetchSettings.S3_PATH_STYLE))
            .overrideConfiguration(
                ClientOverrideConfiguration.builder()
                    .retryStrategy(r -> r.maxAttempts(settings.get(FetchSettings.FETCH_ATTEMPTS)))
                    // a whole fetch, retries included, within --fetch-timeout: a stalled store
                    // frees the fetch thread instead of holding it
                    .apiCallTimeout(
                        java.time.Duration.ofSeconds(settings.get(FetchSettings.FETCH_TIMEOUT)))
                    .build());
    String endpoint = settings.get(FetchSettings.S3_ENDPOINT);
    if (endpoint != null) {
      b.endpointOverride(URI.create(endpoint));
    }
    b.region(region(settings.get(FetchSettings.S3_REGION), endpoint != null));
    return b.build();
  }

  private static Region region(String given, boolean endpointGiven) {
    if (given != null) {
      return Region.of(given);
    }
    try {
      return new DefaultAwsRegionProviderChain().getRegion();
    } catch (RuntimeException none) {
      // an S3-compatible store ignores the region, but the SDK needs one to sign
      if (endpointGiven) {
        return Region.US_EAST_1;
      }
      throw new dev.conveyor.core.ConveyorException(
          dev.conveyor.core.ErrorCode.INVALID_SETTING,
          "no AWS region: give --s3-region, or set AWS_REGION");
    }
  }
}
