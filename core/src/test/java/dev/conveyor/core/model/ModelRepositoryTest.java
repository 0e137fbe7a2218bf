package dev.conveyor.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class ModelRepositoryTest {
  @TempDir Path repo;

  private Path version(String model, String version) throws IOException {
    Path file = Files.createDirectories(repo.resolve(model).resolve(version)).resolve("model.onnx");
    Files.write(file, new byte[] {1, 2, 3});
    return file;
  }

  @Test
  void modelsAndTheirVersionsAreReadFromTheLayoutNewestLast() throws IOException {
    Path v1 = version("fashion", "1");
    Path v10 = version("fashion", "10");
    version("fashion", "2");
    version("squeezenet", "3");
    Files.writeString(
        repo.resolve("fashion/config.properties"),
        "# settings for every version\npreset = fashion-mnist\nlabels=labels.txt\nbatch=64\n");

    RepositoryIndex index = ModelRepository.open(repo).index();

    assertThat(index.problems()).isEmpty();
    assertThat(index.models())
        .extracting(RepositoryIndex.Model::name)
        .containsExactly("fashion", "squeezenet");
    RepositoryIndex.Model fashion = index.model("fashion").orElseThrow();
    assertThat(fashion.versions())
        .extracting(RepositoryIndex.Version::number)
        .as("by number, not by name: 10 is after 2")
        .containsExactly(1L, 2L, 10L);
    assertThat(fashion.latest().file()).isEqualTo(v10.toAbsolutePath());
    assertThat(fashion.version(1).orElseThrow().file()).isEqualTo(v1.toAbsolutePath());
    assertThat(fashion.version(7)).isEmpty();
    assertThat(fashion.config())
        .isEqualTo(Map.of("preset", "fashion-mnist", "labels", "labels.txt", "batch", "64"));
    assertThat(fashion.folder()).isEqualTo(repo.resolve("fashion").toAbsolutePath());
    assertThat(index.model("squeezenet").orElseThrow().config()).isEmpty();
    assertThat(index.model("resnet")).isEmpty();
  }

  @Test
  void aVersionWrittenLaterIsSeenOnTheNextRead() throws IOException {
    version("fashion", "1");
    ModelRepository repository = ModelRepository.open(repo);
    assertThat(repository.index().model("fashion").orElseThrow().latest().number()).isEqualTo(1);

    version("fashion", "2");

    assertThat(repository.index().model("fashion").orElseThrow().latest().number()).isEqualTo(2);
  }

  @Test
  void whatDoesNotFitTheLayoutIsReportedAndHidesNothingElse() throws IOException {
    version("good", "1");
    version("good", "latest");
    version("good", "0");
    Files.createDirectories(repo.resolve("good/4"));
    version("bad name", "1");
    Files.createDirectories(repo.resolve("empty"));
    version("broken-config", "1");
    Files.write(repo.resolve("broken-config/config.properties"), new byte[] {'a', '=', '\\', 'u'});
    Files.writeString(repo.resolve("README.txt"), "a file beside the models is not a model");

    RepositoryIndex index = ModelRepository.open(repo).index();

    assertThat(index.models())
        .extracting(RepositoryIndex.Model::name)
        .containsExactly("broken-config", "good");
    assertThat(index.model("good").orElseThrow().versions())
        .extracting(RepositoryIndex.Version::number)
        .containsExactly(1L);
    assertThat(index.model("broken-config").orElseThrow().config()).isEmpty();
    assertThat(index.problems())
        .anyMatch(p -> p.startsWith("'bad name' is not a model name"))
        .anyMatch(p -> p.equals("good/latest: a version is a whole number from 1"))
        .anyMatch(p -> p.equals("good/0: a version is a whole number from 1"))
        .anyMatch(p -> p.equals("good/4 has no model.onnx"))
        .anyMatch(p -> p.equals("empty has no version with a model.onnx"))
        .anyMatch(p -> p.startsWith("broken-config/config.properties cannot be read"))
        .hasSize(6);
  }

  @Test
  void modelNamesAreSafeInAPathAUrlAndAHeader() {
    assertThat(ModelRepository.isModelName("fashion-mnist_v2.int8")).isTrue();
    assertThat(ModelRepository.isModelName("a".repeat(64))).isTrue();
    assertThat(ModelRepository.isModelName("a".repeat(65))).isFalse();
    for (String hostile :
        new String[] {"", "..", "a/../b", "../etc", ".hidden", "-flag", "a b", "a\nb", "é", null}) {
      assertThat(ModelRepository.isModelName(hostile)).as(String.valueOf(hostile)).isFalse();
    }
  }

  @Test
  void aRepositoryThatIsNotAFolderIsAnInvalidSettingWithTheLayoutInIt() {
    assertThatThrownBy(() -> ModelRepository.open(repo.resolve("missing")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("NAME/VERSION/model.onnx");
  }

  @Test
  void publishingWritesTheNextVersionWholeAndKeepsTheSourceAsItIs() throws IOException {
    Path trained = Files.write(repo.resolve("trained.onnx"), new byte[] {7, 7, 7});
    ModelRepository repository = ModelRepository.create(repo.resolve("new-repo"));

    assertThat(repository.publish("fashion", trained)).as("a new model starts at 1").isEqualTo(1);
    Files.createDirectories(repo.resolve("new-repo/fashion/5"));
    assertThat(repository.publish("fashion", trained))
        .as("after the highest number there, even a version still being written")
        .isEqualTo(6);

    RepositoryIndex index = repository.index();
    assertThat(index.model("fashion").orElseThrow().versions())
        .extracting(RepositoryIndex.Version::number)
        .containsExactly(1L, 6L);
    assertThat(Files.readAllBytes(index.model("fashion").orElseThrow().latest().file()))
        .containsExactly(7, 7, 7);
    assertThat(Files.exists(trained)).isTrue();
    try (var left = Files.list(repo.resolve("new-repo/fashion"))) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .as("no partial file is left behind")
          .containsExactlyInAnyOrder("1", "5", "6");
    }
    assertThatThrownBy(() -> repository.publish("../elsewhere", trained))
        .isInstanceOfSatisfying(
            ConveyorException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING));
  }
}
