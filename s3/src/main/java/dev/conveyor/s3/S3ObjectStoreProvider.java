package dev.conveyor.s3;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.fetch.ObjectStoreProvider;
import dev.conveyor.core.settings.Settings;
import java.util.List;

/** Images are put into {@code s3://bucket/prefix} with the AWS SDK. */
public final class S3ObjectStoreProvider implements ObjectStoreProvider {
  @Override
  public List<String> schemes() {
    return List.of("s3");
  }

  @Override
  public String example() {
    return "s3://bucket/prefix";
  }

  @Override
  public ObjectStore open(String uri, Settings settings) {
    S3Location prefix;
    try {
      prefix = S3Location.parse(uri);
    } catch (ConveyorException e) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, e.getMessage());
    }
    return new S3ObjectStore(S3Clients.open(settings), prefix);
  }
}
