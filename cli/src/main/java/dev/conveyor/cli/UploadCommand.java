package dev.conveyor.cli;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.jdbc.TableKeys;
import dev.conveyor.s3.S3Location;
import dev.conveyor.s3.S3Store;
import java.io.PrintWriter;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code conveyor upload}: seed 004's upload step, images to S3 and their keys to a table. */
@Command(
    name = "upload",
    header = "Upload images to S3, and their keys to a PostgreSQL table.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Puts every image file (directories are walked) into the bucket under --to's prefix, "
          + "keyed by its path under the directory given, with a progress bar. With --keys, the "
          + "keys are then added to that table (made when missing; keys already there are not "
          + "added twice), for 'conveyor produce --from-table' to send. Credentials come from the "
          + "standard AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, "
          + "an instance role).",
      "",
    })
final class UploadCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--to",
      paramLabel = "s3://BUCKET/PREFIX",
      required = true,
      description = "Where the images go: a bucket, and a key prefix for them.")
  String to;

  @Option(
      names = "--keys",
      paramLabel = "URI",
      description =
          "Also add each key to this table: postgresql://user@host:5432/db?table=image_info&column=image_key.")
  String keys;

  @Option(names = "--create-bucket", description = "Make the bucket when it is missing.")
  boolean createBucket;

  @Parameters(
      paramLabel = "FILE|DIR",
      arity = "1..*",
      description = "Images, or directories to walk.")
  List<Path> inputs;

  @Override
  public SettingGroup[] settings() {
    return new SettingGroup[] {FetchSettings.SETTINGS};
  }

  @Override
  public Integer call() throws Exception {
    Settings s3 = CommandSettings.read(spec, FetchSettings.SETTINGS);
    S3Location prefix = CommandSettings.usage(spec, () -> parse(to));
    TableKeys table = keys == null ? null : CommandSettings.usage(spec, () -> TableKeys.of(keys));
    PrintWriter err = spec.commandLine().getErr();
    List<String[]> files = new ArrayList<>();
    for (Path input : inputs) {
      Path base = Files.isDirectory(input) ? input : input.getParent();
      for (Path f : ImageFiles.expand(List.of(input))) {
        String name =
            base == null
                ? f.getFileName().toString()
                : base.relativize(f).toString().replace('\\', '/');
        files.add(new String[] {f.toString(), prefix.resolve(name).key()});
      }
    }
    List<String> uploaded = new ArrayList<>();
    long bytes = 0;
    long start = System.nanoTime();
    try (S3Store store = CommandSettings.usage(spec, () -> S3Store.open(s3.given()));
        ProgressBar bar = Progress.bar("upload", files.size(), " img", 1, true)) {
      CommandSettings.usage(
          spec,
          () -> {
            store.bucket(prefix.bucket(), createBucket);
            return null;
          });
      for (String[] f : files) {
        byte[] image = Files.readAllBytes(Path.of(f[0]));
        String type = URLConnection.guessContentTypeFromName(f[0]);
        store.put(
            new S3Location(prefix.bucket(), f[1]),
            image,
            type != null ? type : "application/octet-stream");
        uploaded.add(f[1]);
        bytes += image.length;
        bar.step();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    err.printf(
        "uploaded %d images (%.1f MB) to s3://%s/ in %.1f s%n",
        uploaded.size(), bytes / 1e6, prefix.bucket(), seconds);
    if (table != null) {
      long added = table.insert(uploaded);
      err.printf(
          "added %d keys to %s (%d there already)%n",
          added, table.describe(), uploaded.size() - added);
    }
    err.flush();
    return 0;
  }

  private static S3Location parse(String uri) {
    try {
      return S3Location.parse(uri);
    } catch (ConveyorException e) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "--to: " + e.getMessage());
    }
  }
}
