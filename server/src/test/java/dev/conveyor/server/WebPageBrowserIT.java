package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.worker.Worker;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver},
 * which {@code ./run-tests} installs): upload images and see their predictions, watch the dashboard
 * and gallery fill, and fit a phone's screen. Screenshots go to {@code target/screenshots}.
 */
class WebPageBrowserIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  @TempDir Path profile;
  private EmbeddedTransport transport;
  private Worker worker;
  private ConveyorServer server;
  private ChromeDriver browser;

  @BeforeEach
  void start() {
    assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER))
        .as(
            "the browser test needs Debian's chromium and chromium-driver:"
                + " apt-get install chromium chromium-driver (./run-tests installs them)")
        .isTrue();
    MeanColourClassifier model = new MeanColourClassifier(32, 32);
    transport = new EmbeddedTransport(64, 3);
    worker = TestWorkers.colour(transport, transport, model, 4);
    server =
        new ConveyorServer(
                ServerSettings.defaults().withPort(0),
                new EmbeddedClassify(transport, List.of(worker), model.spec().name(), 2))
            .start();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--user-data-dir=" + profile,
        "--window-size=1280,1100");
    // the console, where Chromium reports whatever the page's Content-Security-Policy refused
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
    browser = new ChromeDriver(service, options);
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
    if (worker != null) {
      worker.close();
    }
    if (transport != null) {
      transport.close();
    }
  }

  @Test
  void uploadImagesAndSeeTheirPredictionsTheDashboardAndTheGallery() throws Exception {
    browser.get("http://127.0.0.1:" + server.port() + "/");
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    wait.until(b -> "true".equals(b.findElement(By.tagName("body")).getAttribute("data-ready")));
    assertThat(browser.findElement(By.id("model-name")).getText()).contains("mean-colour");

    Path folder = TestImages.folder();
    browser
        .findElement(By.id("file-input"))
        .sendKeys(
            folder.resolve("palette-blue.png").toAbsolutePath()
                + "\n"
                + folder.resolve("truncated.jpg").toAbsolutePath());
    wait.until(
        b -> {
          List<WebElement> cards = b.findElements(By.cssSelector("#results .result-card"));
          return cards.size() == 2
              && cards.stream().noneMatch(c -> "pending".equals(c.getAttribute("data-status")));
        });
    WebElement ok = browser.findElement(By.cssSelector(".result-card[data-status='ok']"));
    List<WebElement> predictions = ok.findElements(By.className("prediction"));
    assertThat(predictions).hasSize(2);
    assertThat(predictions.get(0).findElement(By.className("label")).getText()).isEqualTo("blue");
    assertThat(predictions.get(0).findElement(By.className("score")).getText()).endsWith("%");
    WebElement bad = browser.findElement(By.cssSelector(".result-card[data-status='error']"));
    assertThat(bad.findElement(By.className("error-message")).getText()).isNotBlank();

    wait.until(b -> b.findElements(By.cssSelector("#gallery .gallery-item")).size() == 2);
    wait.until(b -> b.findElement(By.id("stat-requests")).getText().trim().equals("2"));
    assertThat(browser.findElement(By.id("stat-errors")).getText().trim()).isEqualTo("1");
    assertThat(browser.findElement(By.id("health")).getText()).isEqualToIgnoringCase("ok");
    // every chart has drawn points, and those of the work done show it
    for (String chart :
        List.of(
            "chart-throughput",
            "chart-latency",
            "chart-batch",
            "chart-queue",
            "chart-workers",
            "chart-batch-sizes")) {
      wait.until(b -> drawn(chart, false) > 0);
      assertThat(browser.findElement(By.id(chart)).getSize().getWidth()).as(chart).isPositive();
    }
    for (String chart :
        List.of(
            "chart-throughput",
            "chart-latency",
            "chart-batch",
            "chart-workers",
            "chart-batch-sizes")) {
      wait.until(b -> drawn(chart, true) > 0);
    }
    save("page-desktop.png");

    browser.manage().window().setSize(new Dimension(390, 844));
    wait.until(
        b ->
            (Long)
                    ((JavascriptExecutor) b)
                        .executeScript("return document.documentElement.clientWidth;")
                <= 390);
    long overflow =
        (Long)
            ((JavascriptExecutor) browser)
                .executeScript(
                    "return document.documentElement.scrollWidth"
                        + " - document.documentElement.clientWidth;");
    assertThat(overflow).as("no sideways scrolling on a phone-sized screen").isLessThanOrEqualTo(0);
    assertThat(browser.findElement(By.id("drop-zone")).getSize().getWidth())
        .isLessThanOrEqualTo(390);
    save("page-phone.png");

    List<String> refused =
        browser.manage().logs().get(LogType.BROWSER).getAll().stream()
            .map(LogEntry::getMessage)
            .filter(m -> m.contains("Content Security Policy"))
            .toList();
    assertThat(refused).as("the page needs nothing its Content-Security-Policy refuses").isEmpty();
  }

  /**
   * How many points or bars Chart.js has drawn on a canvas ({@code positive}: with a value above
   * zero); -1 when the canvas has no chart.
   */
  private long drawn(String canvasId, boolean positive) {
    Object n =
        ((JavascriptExecutor) browser)
            .executeScript(
                "const c = Chart.getChart(arguments[0]);"
                    + " if (!c) return -1;"
                    + " let n = 0;"
                    + " c.data.datasets.forEach((d, i) => c.getDatasetMeta(i).data.forEach((e, j) =>"
                    + "   { const v = d.data[j]; if (v != null && (!arguments[1] || v > 0)) n++; }));"
                    + " return n;",
                canvasId,
                positive);
    return ((Number) n).longValue();
  }

  private void save(String name) throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "screenshots"));
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
