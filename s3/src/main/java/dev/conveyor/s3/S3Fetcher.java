package dev.conveyor.s3;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.fetch.Fetcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Fetches {@code s3://bucket/key}. The byte limit holds before the download completes: an object
 * whose length is over it is refused from the response's headers, and reading stops (the connection
 * is aborted) as soon as more bytes than the limit arrive. A missing object or bucket and a refusal
 * (403) are {@link FetchAllow#denied()}, one answer that does not tell them apart; a store that
 * still fails after the SDK's retries is {@code FETCH_FAILED}. Thread-safe: one client for all
 * threads.
 */
final class S3Fetcher implements Fetcher, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(S3Fetcher.class);
  private final S3Client s3;

  S3Fetcher(S3Client s3) {
    this.s3 = s3;
  }

  @Override
  public byte[] fetch(String key, long maxBytes) {
    S3Location at;
    try {
      at = S3Location.parse(key);
    } catch (ConveyorException notABucket) {
      throw FetchAllow.denied(); // one answer: the reference's text is not repeated
    }
    try (ResponseInputStream<GetObjectResponse> in =
        s3.getObject(GetObjectRequest.builder().bucket(at.bucket()).key(at.key()).build())) {
      Long length = in.response().contentLength();
      if (length != null && length > maxBytes) {
        in.abort();
        throw tooLarge(length, maxBytes);
      }
      byte[] bytes = readAtMost(in, maxBytes, length == null ? 64 * 1024 : length);
      if (bytes == null) {
        in.abort();
        throw new ConveyorException(
            ErrorCode.TOO_LARGE, "the object is over the limit of %d bytes".formatted(maxBytes));
      }
      return bytes;
    } catch (NoSuchKeyException | NoSuchBucketException e) {
      throw FetchAllow.denied();
    } catch (S3Exception e) {
      // 403 AccessDenied is also S3's answer for a missing key to a reader that may not list
      if (e.statusCode() == 404 || (e.statusCode() == 403 && "AccessDenied".equals(errorCode(e)))) {
        throw FetchAllow.denied();
      }
      LOG.warn("the store failed a fetch: HTTP {} {}", e.statusCode(), errorCode(e));
      throw new ConveyorException(
          ErrorCode.FETCH_FAILED, "the store failed: HTTP %d".formatted(e.statusCode()));
    } catch (SdkClientException e) {
      LOG.warn("the store cannot be reached: {}", e.getMessage());
      throw new ConveyorException(ErrorCode.FETCH_FAILED, "the store cannot be reached");
    } catch (IOException e) {
      LOG.warn("reading from the store failed: {}", e.toString());
      throw new ConveyorException(ErrorCode.FETCH_FAILED, "reading from the store failed");
    }
  }

  private static String errorCode(S3Exception e) {
    return e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
  }

  /** The stream's bytes, or {@code null} as soon as there are more than {@code max}. */
  static byte[] readAtMost(InputStream in, long max, long expected) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(expected, max) + 1);
    byte[] buffer = new byte[64 * 1024];
    long total = 0;
    for (int n; (n = in.read(buffer)) >= 0; ) {
      total += n;
      if (total > max) {
        return null;
      }
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }

  private static ConveyorException tooLarge(long length, long max) {
    return new ConveyorException(
        ErrorCode.TOO_LARGE, "the object is over the limit of %d bytes".formatted(max));
  }

  @Override
  public void close() {
    s3.close();
  }
}
