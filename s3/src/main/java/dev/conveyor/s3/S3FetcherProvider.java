package dev.conveyor.s3;

import dev.conveyor.core.fetch.Fetcher;
import dev.conveyor.core.fetch.FetcherProvider;
import dev.conveyor.core.settings.Settings;
import java.util.List;

/** Workers fetch {@code s3://bucket/key} with the AWS SDK. */
public final class S3FetcherProvider implements FetcherProvider {
  @Override
  public List<String> schemes() {
    return List.of("s3");
  }

  @Override
  public Fetcher open(Settings settings) {
    return new S3Fetcher(S3Clients.open(settings));
  }
}
