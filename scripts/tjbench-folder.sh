#!/usr/bin/env bash
# The JPEG decode limit of this machine on a folder of photos: libjpeg-turbo's own tjbench decodes
# each JPEG (full size, to BGR, one thread) and this sums the time per image over the folder.
# Prints the folder's decode rate in images per second, to compare with `conveyor bench`'s
# preprocess rate on the same files. Needs Debian's libjpeg-turbo-progs.
#   scripts/tjbench-folder.sh DIR [SECONDS_PER_FILE]
set -euo pipefail
dir=${1:?usage: tjbench-folder.sh DIR [SECONDS_PER_FILE]}
seconds=${2:-1}
command -v tjbench >/dev/null || { echo "tjbench not found: apt-get install libjpeg-turbo-progs" >&2; exit 1; }
total=0
count=0
while IFS= read -r -d '' f; do
  fps=$(tjbench "$f" -benchtime "$seconds" -warmup 0.2 -nowrite 2>/dev/null |
        awk '/Decompress/ && /Frame rate/ {print $(NF-1); exit}')
  [ -n "$fps" ] || { echo "skipped (tjbench could not decode): $f" >&2; continue; }
  total=$(awk -v t="$total" -v r="$fps" 'BEGIN {print t + 1 / r}')
  count=$((count + 1))
done < <(find "$dir" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -print0 | sort -z)
[ "$count" -gt 0 ] || { echo "no JPEG files in $dir" >&2; exit 1; }
awk -v n="$count" -v t="$total" 'BEGIN {printf "tjbench: %d JPEGs, %.3f ms per image, %.1f images/s (one thread)\n", n, 1000 * t / n, n / t}'
