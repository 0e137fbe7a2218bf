package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README and docs/ hold together: every relative link reaches a file, every {@code #anchor} a
 * heading (by GitHub's rules), and the settings reference is what the catalogue declares.
 */
@Timeout(30)
class DocsTest {
  private static final Path ROOT = Path.of(System.getProperty("conveyor.home", ".."));
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
  private static final Pattern CODE_SPAN = Pattern.compile("`+[^`]*`+");
  private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*?)\\s*#*\\s*$");

  @Test
  void everyLinkReachesAFileAndEveryAnchorAHeading() {
    List<Path> pages = pages(ROOT);
    assertThat(pages).contains(ROOT.resolve("README.md"), ROOT.resolve("docs/settings.md"));
    assertThat(brokenLinks(ROOT, pages)).as("broken links in README.md and docs/").isEmpty();
  }

  @Test
  void theSettingsReferenceIsTheCatalogue() throws IOException {
    String page = Files.readString(ROOT.resolve("docs/settings.md"));
    // the memory:// broker these tests plug in is no part of Conveyor
    Set<String> testOnly = Set.copyOf(new MemoryBrokerProvider().schemes());
    Set<String> groups = new HashSet<>(SettingsCommand.tables().keySet());
    groups.removeAll(testOnly);
    assertThat(groups)
        .as("docs/settings.md has a section for every group of settings")
        .isSubsetOf(SettingsCommand.sections(page));
    assertThat(SettingsCommand.sections(page))
        .as("docs/settings.md's sections name groups that exist; remove the others")
        .isSubsetOf(groups);
    assertThat(SettingsCommand.updated(page, testOnly))
        .as(
            "docs/settings.md differs from the settings declared in the code;"
                + " run ./conveyor settings --update docs/settings.md")
        .isEqualTo(page);
  }

  @Test
  void aBrokenLinkOrAnchorIsFound(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("docs"));
    Files.writeString(
        dir.resolve("README.md"),
        "# Conveyor\n\n## The two commands\n\n[ok](docs/a.md#the-pages-heading)"
            + " [ok](#the-two-commands) [missing](docs/gone.md) [anchor](#no-such-heading)\n"
            + "`[in code](nowhere.md)`\n\n```\n[in a block](nowhere.md)\n```\n");
    Files.writeString(
        dir.resolve("docs/a.md"),
        "# The page's heading\n\n[up](../README.md#the-two-commands) [other](../README.md#gone)\n"
            + "[web](https://example.com/x#y)\n");
    assertThat(brokenLinks(dir, pages(dir)))
        .containsExactlyInAnyOrder(
            "README.md: docs/gone.md (no such file)",
            "README.md: #no-such-heading (no such heading in README.md)",
            "docs/a.md: ../README.md#gone (no such heading in README.md)");
  }

  @Test
  void anchorsFollowGitHubsRules() {
    assertThat(anchors(List.of("# INT8: `conveyor quantize`", "## Flink or `conveyor worker`?")))
        .contains("int8-conveyor-quantize", "flink-or-conveyor-worker");
    assertThat(anchors(List.of("## Measured", "## Measured", "## Seed 003's Redis contract")))
        .contains("measured", "measured-1", "seed-003s-redis-contract");
    assertThat(anchors(List.of("## [Linked](x.md) *emphasis*", "```", "# not a heading", "```")))
        .containsExactly("linked-emphasis");
  }

  /** README.md and every page under docs/. */
  private static List<Path> pages(Path root) {
    List<Path> pages = new ArrayList<>();
    pages.add(root.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pages;
  }

  /** Each link that reaches no file or no heading, as "PAGE: TARGET (why)". */
  private static List<String> brokenLinks(Path root, List<Path> pages) {
    Map<Path, Set<String>> anchors = new HashMap<>();
    List<String> broken = new ArrayList<>();
    for (Path page : pages) {
      String name = root.relativize(page).toString();
      for (String target : links(read(page))) {
        if (target.matches("^[a-z][a-z0-9+.-]*:.*")) {
          continue; // https:, mailto: and the like: not ours to check
        }
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path to = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
        if (!Files.exists(to)) {
          broken.add(name + ": " + target + " (no such file)");
        } else if (hash >= 0 && to.toString().endsWith(".md")) {
          String anchor = target.substring(hash + 1);
          if (!anchors
              .computeIfAbsent(to, p -> anchors(read(p).lines().toList()))
              .contains(anchor)) {
            broken.add(name + ": " + target + " (no such heading in " + root.relativize(to) + ")");
          }
        }
      }
    }
    return broken;
  }

  /** The targets of the page's links, outside code blocks and code spans. */
  private static List<String> links(String text) {
    List<String> targets = new ArrayList<>();
    boolean code = false;
    for (String line : text.lines().toList()) {
      if (line.strip().startsWith("```")) {
        code = !code;
        continue;
      }
      if (code) {
        continue;
      }
      Matcher m = LINK.matcher(CODE_SPAN.matcher(line).replaceAll("code"));
      while (m.find()) {
        targets.add(m.group(1));
      }
    }
    return targets;
  }

  /** The anchors GitHub gives the headings of these lines (outside code blocks). */
  static Set<String> anchors(List<String> lines) {
    Set<String> anchors = new HashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    boolean code = false;
    for (String line : lines) {
      if (line.strip().startsWith("```")) {
        code = !code;
        continue;
      }
      Matcher m = HEADING.matcher(line);
      if (code || !m.matches()) {
        continue;
      }
      String slug =
          m.group(2)
              .replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1")
              .toLowerCase(Locale.ROOT)
              .replaceAll("[^\\p{L}\\p{M}\\p{N}\\p{Pc} -]", "")
              .replace(' ', '-');
      int n = seen.merge(slug, 1, Integer::sum) - 1;
      anchors.add(n == 0 ? slug : slug + "-" + n);
    }
    return anchors;
  }

  private static String read(Path page) {
    try {
      return Files.readString(page);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
