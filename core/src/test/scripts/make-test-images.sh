#!/usr/bin/env bash
# Makes the image fixtures of core's tests: photo-like images, odd encodings, broken files.
# Needs Debian's imagemagick, libimage-exiftool-perl and python3-pil. Deterministic: fixed seeds,
# no dates.
#   core/src/test/scripts/make-test-images.sh core/src/test/resources/images
set -euo pipefail
out=${1:?usage: make-test-images.sh OUT_DIR}
mkdir -p "$out"
im=/usr/bin/convert
strip=(-strip -define png:exclude-chunks=date,time)

# photo-like: fractal plasma has the smooth gradients and fine detail of photographs
$im -seed 7 -size 640x480 plasma:fractal -blur 0x0.6 "${strip[@]}" -quality 90 "$out/plasma-640x480.jpg"
$im -seed 11 -size 1600x1200 plasma:fractal -blur 0x0.8 "${strip[@]}" -quality 92 "$out/plasma-1600x1200.jpg"
$im -seed 13 -size 300x500 plasma:fractal "${strip[@]}" "PNG24:$out/plasma-300x500.png"
# fine detail (a hatch pattern and noise) shows whether the resize antialiases as PIL does
$im -seed 23 -size 800x600 plasma:fractal \( -size 800x600 pattern:hs_diagcross \) -compose multiply -composite \
  -attenuate 0.5 +noise Gaussian "${strip[@]}" -quality 90 "$out/detail-800x600.jpg"
$im -seed 29 -size 2200x1400 plasma:fractal \( -size 2200x1400 pattern:checkerboard \) -compose multiply -composite \
  -attenuate 0.3 +noise Gaussian "${strip[@]}" -quality 88 "$out/detail-2200x1400.jpg"
$im -seed 17 -size 333x257 plasma:fractal "${strip[@]}" -quality 85 "$out/plasma-333x257.jpg"

# odd encodings, each with known colours
$im -seed 19 -size 320x240 plasma:fractal -colorspace Gray "${strip[@]}" -quality 90 "$out/gray.jpg"
$im -size 64x48 xc:'rgb(220,20,30)' -colorspace CMYK "${strip[@]}" -quality 95 "$out/cmyk-red.jpg"
$im -size 64x48 xc:'rgb(20,200,40)' "${strip[@]}" "PNG48:$out/rgb16-green.png"
$im -size 32x32 xc:'rgb(30,40,210)' -type Palette "${strip[@]}" "PNG8:$out/palette-blue.png"
$im -size 40x30 xc:'rgba(200,100,50,0.5)' "${strip[@]}" "PNG32:$out/alpha-orange.png"
$im -size 50x40 xc:'rgb(250,10,10)' -size 50x40 xc:'rgb(10,10,250)' -loop 0 -delay 10 "${strip[@]}" "$out/animated-red-then-blue.gif"
$im -size 60x40 xc:'rgb(240,240,20)' "${strip[@]}" "BMP3:$out/yellow.bmp"
$im -size 30x20 xc:'rgb(90,160,220)' "${strip[@]}" "TIFF:$out/sky.tif"
$im -size 10x6 xc:'rgb(128,128,128)' "${strip[@]}" "$out/tiny-gray.png"
# stored 200x100, left half red, right half blue; EXIF orientation 6 shows it rotated 90° clockwise:
# 100x200, red on top
$im -size 100x100 xc:'rgb(230,0,0)' -size 100x100 xc:'rgb(0,0,230)' +append "${strip[@]}" -quality 95 "$out/exif-rotated.jpg"
exiftool -q -overwrite_original -Orientation=6 -n "$out/exif-rotated.jpg"

# broken
: > "$out/empty.jpg"
head -c "$(( $(stat -c %s "$out/plasma-640x480.jpg") / 2 ))" "$out/plasma-640x480.jpg" > "$out/truncated.jpg"
# header cut inside its Huffman tables, then junk
{ head -c 200 "$out/plasma-333x257.jpg"; head -c 4000 /dev/zero | tr '\0' '\125'; printf '\xff\xd9'; } > "$out/corrupt.jpg"
head -c "$(( $(stat -c %s "$out/plasma-300x500.png") / 2 ))" "$out/plasma-300x500.png" > "$out/truncated.png"
printf 'this is a text file, not an image\n' > "$out/not-an-image.txt"
{ printf '\x89PNG\r\n\x1a\n'; head -c 200 /dev/zero; } > "$out/fake.png"

# hostile: a plain CMYK JPEG (Adobe transform 0; cmyk-red.jpg above is YCCK), a format Conveyor
# does not decode, and headers that claim far more pixels than their few bytes hold
/usr/bin/python3 - "$out" <<'PY'
import io, struct, sys
from PIL import Image
out = sys.argv[1]
Image.new("CMYK", (64, 48), (0, 230, 230, 10)).save(out + "/cmyk-adobe0-red.jpg", "JPEG", quality=90)
Image.new("RGB", (32, 32), (200, 30, 30)).save(out + "/red.webp", "WEBP")
b = io.BytesIO(); Image.new("RGB", (16, 16), (10, 200, 10)).save(b, "JPEG"); j = bytearray(b.getvalue())
struct.pack_into(">HH", j, j.find(b"\xff\xc0") + 5, 65000, 65000)  # SOF0: height, width
open(out + "/huge-dimensions.jpg", "wb").write(j)
g = io.BytesIO(); Image.new("P", (8, 8), 1).save(g, "GIF"); gb = bytearray(g.getvalue())
struct.pack_into("<HH", gb, 6, 65535, 65535)  # the logical screen
struct.pack_into("<HH", gb, gb.find(b"\x2c") + 5, 65535, 65535)  # the image descriptor
open(out + "/gif-bomb.gif", "wb").write(gb)
PY
echo "fixtures written to $out"
