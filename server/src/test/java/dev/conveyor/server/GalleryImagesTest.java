package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.TestImages;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The gallery's types come from an image's first bytes, never from what its sender declared. */
@Timeout(10)
class GalleryImagesTest {
  @Test
  void theFiveImageTypesAreKnownByTheirBytes() {
    assertThat(GalleryImages.contentType(TestImages.bytes("palette-blue.png")))
        .isEqualTo("image/png");
    assertThat(GalleryImages.contentType(TestImages.bytes("cmyk-red.jpg"))).isEqualTo("image/jpeg");
    assertThat(GalleryImages.contentType(TestImages.bytes("animated-red-then-blue.gif")))
        .isEqualTo("image/gif");
    assertThat(GalleryImages.contentType(TestImages.bytes("red.webp"))).isEqualTo("image/webp");
    assertThat(GalleryImages.contentType(TestImages.bytes("yellow.bmp"))).isEqualTo("image/bmp");
  }

  @Test
  void pagesTextAndOtherFormatsAreNotServed() {
    for (String text :
        new String[] {
          "<html><script>alert(1)</script></html>",
          "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
          "BM is how this page starts: <script>alert(1)</script>",
          "RIFF....WAVEfmt ",
          ""
        }) {
      assertThat(GalleryImages.contentType(text.getBytes(StandardCharsets.UTF_8)))
          .as(text)
          .isNull();
    }
    assertThat(GalleryImages.contentType(TestImages.bytes("sky.tif"))).isNull();
    assertThat(GalleryImages.contentType(null)).isNull();
  }
}
