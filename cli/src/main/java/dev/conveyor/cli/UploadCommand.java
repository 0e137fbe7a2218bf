package dev.conveyor.cli;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.fetch.ObjectStores;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.KeyTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
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
    Settings fetch = CommandSettings.read(spec, FetchSettings.SETTINGS);
    try (ObjectStore store = open(spec, "--to", to, fetch)) {
      KeyTable table = keys == null ? null : ProduceCommand.table(spec, "--keys", keys);
      upload(store, table);
    }
    return 0;
  }

  private void upload(ObjectStore store, KeyTable table) throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    List<String[]> files = new ArrayList<>();
    for (Path input : inputs) {
      Path base = Files.isDirectory(input) ? input : input.getParent();
      for (Path f : ImageFiles.expand(List.of(input))) {
        String name =
            base == null
                ? f.getFileName().toString()
                : base.relativize(f).toString().replace('\\', '/');
        files.add(new String[] {f.toString(), name});
      }
    }
    List<String> uploaded = new ArrayList<>();
    long bytes = 0;
    long start = System.nanoTime();
    try (ProgressBar bar = Progress.bar("upload", files.size(), " img", 1, true)) {
      CommandSettings.usage(
          spec,
          () -> {
            store.checkBucket(createBucket);
            return null;
          });
      for (String[] f : files) {
        byte[] image = Files.readAllBytes(Path.of(f[0]));
        String type = URLConnection.guessContentTypeFromName(f[0]);
        store.put(f[1], image, type != null ? type : "application/octet-stream");
        uploaded.add(store.key(f[1]));
        bytes += image.length;
        bar.step();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    err.printf(
        "uploaded %d images (%.1f MB) to %s in %.1f s%n",
        uploaded.size(), bytes / 1e6, store.bucket(), seconds);
    if (table != null) {
      long added = table.insert(uploaded);
      err.printf(
          "added %d keys to %s (%d there already)%n",
          added, table.describe(), uploaded.size() - added);
    }
    err.flush();
  }

  /** The object store an option names; an address that is wrong is a usage error naming it. */
  static ObjectStore open(CommandSpec spec, String option, String uri, Settings settings) {
    return CommandSettings.usage(
        spec,
        () -> {
          try {
            return ObjectStores.open(uri, settings);
          } catch (ConveyorException e) {
            if (e.code() != ErrorCode.INVALID_SETTING) {
              throw e;
            }
            throw new ConveyorException(ErrorCode.INVALID_SETTING, option + ": " + e.getMessage());
          }
        });
  }
}
