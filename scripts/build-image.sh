#!/usr/bin/env bash
# Builds Conveyor's container image without a Docker daemon or a registry: an OCI image whose base
# is made from Debian's packages (mmdebstrap: a Java 17 runtime and TurboJPEG), with Conveyor's
# third-party jars in one layer and Conveyor itself (its jars, the bundled model, the `conveyor`
# command) in another, entrypoint `conveyor`, run as an unprivileged user.
#
#   scripts/build-image.sh [--output DIR] [--tag TAG]
#
# Writes DIR (target/image by default) holding:
#   oci/                 the image as an OCI layout, tag TAG (conveyor:0.1.0 → oci:DIR/oci:0.1.0)
#   conveyor-oci.tar     the same as one OCI archive: `skopeo copy oci-archive:… docker-daemon:…`,
#                        `podman load -i …`, or `skopeo copy … docker://REGISTRY/conveyor:TAG`
#   conveyor-docker.tar  the same for `docker load -i …`
# The Debian base is kept in ~/.cache/conveyor (CONVEYOR_CACHE) and made again only when its
# package list changes. Needs root and: apt-get install mmdebstrap umoci skopeo python3; Conveyor built
# (./conveyor does it, or ./mvnw package -DskipTests).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="$root/target/image"
tag="0.1.0"
while [ $# -gt 0 ]; do
  case "$1" in
    --output) out="$(readlink -f "$2")"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in mmdebstrap umoci skopeo python3; do
  command -v "$tool" >/dev/null || {
    echo "build-image: $tool is missing: apt-get install mmdebstrap umoci skopeo python3" >&2
    exit 1
  }
done
[ "$(id -u)" -eq 0 ] || { echo "build-image: run as root (mmdebstrap and umoci keep file owners)" >&2; exit 1; }
jar="$root/cli/target/conveyor.jar"
[ -f "$jar" ] || { echo "build-image: build Conveyor first: ./mvnw -B package -DskipTests" >&2; exit 1; }

# 1. the base: Debian 12's Java 17 runtime and TurboJPEG, nothing else beside the essential set
packages="openjdk-17-jre-headless,libturbojpeg0,libturbojpeg-java,ca-certificates"
# the mirror: CONVEYOR_DEBIAN_MIRROR, else this machine's own Debian 12 sources (which apt reaches
# here, through its proxy if it has one), else Debian's
mirror="${CONVEYOR_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -s "$f" ] && grep -q "bookworm" "$f"; then mirror="$f"; break; fi
  done
fi
mirror="${mirror:-http://deb.debian.org/debian}"
aptopts=()
proxy="$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -1)"
[ -n "$proxy" ] && aptopts+=(--aptopt="Acquire::http::Proxy \"$proxy\"")
cache="${CONVEYOR_CACHE:-$HOME/.cache/conveyor}"
mkdir -p "$cache"
# named by what makes it: the packages and this script's recipe (its version, 1)
base="$cache/debian-bookworm-$(printf '%s recipe 1' "$packages" | sha256sum | cut -c1-12).tar"
if [ ! -s "$base" ]; then
  echo "build-image: making the Debian base ($packages) from $mirror …" >&2
  # no documentation, manuals or translations in the image; Java's postinst needs man1 to exist
  mmdebstrap --variant=essential --format=tar --include="$packages" ${aptopts[@]+"${aptopts[@]}"} \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
    --customize-hook='echo "conveyor:x:10001:10001:Conveyor:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='echo "conveyor:x:10001:" >> "$1/etc/group"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    bookworm "$base.part" "$mirror" >&2
  mv "$base.part" "$base"
fi

# 2. Conveyor's two layers, as files under /opt/conveyor, owned by root and readable by all
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
libs="$work/libs/opt/conveyor"
app="$work/app/opt/conveyor"
mkdir -p "$libs/lib" "$app/lib" "$app/bin" "$app/models"
for f in "$root"/cli/target/lib/*.jar; do
  case "$(basename "$f")" in
    conveyor-*) cp "$f" "$app/lib/" ;;
    *) cp "$f" "$libs/lib/" ;;
  esac
done
# ONNX Runtime's and OpenCV's jars hold every platform's native libraries (and Windows and macOS
# debug symbols): the image is linux/amd64, so only those are kept, which halves the layer
only_amd64() { # JAR: rewrites it without the entries under the other platforms' folders
  python3 - "$1" <<'PY'
import re, shutil, sys, zipfile
jar = sys.argv[1]
other = re.compile(r"^(ai/onnxruntime/native/(?!linux-x64/)[^/]+/|nu/pattern/opencv/(?!linux/x86_64/)(linux|osx|windows)/[^/]+/)")
with zipfile.ZipFile(jar) as src, zipfile.ZipFile(jar + ".new", "w", zipfile.ZIP_DEFLATED) as dst:
    for entry in src.infolist():
        if not other.match(entry.filename):
            dst.writestr(entry, src.read(entry.filename))
shutil.move(jar + ".new", jar)
PY
}
for f in "$libs"/lib/onnxruntime-*.jar "$libs"/lib/opencv-*.jar; do
  if [ -f "$f" ]; then only_amd64 "$f"; fi
done
cp "$jar" "$app/"
cp "$root"/models/fashion-mnist.onnx "$root"/models/fashion-mnist.labels.txt \
  "$root"/models/fashion-mnist-int8.onnx "$app/models/"
cat > "$app/bin/conveyor" <<'EOF'
#!/bin/sh
# The conveyor command in Conveyor's image. JVM options go in CONVEYOR_JAVA_OPTS.
# shellcheck disable=SC2086
exec java ${CONVEYOR_JAVA_OPTS:-} -Djava.awt.headless=true -Dconveyor.home=/opt/conveyor \
  -cp /opt/conveyor/conveyor.jar:/usr/share/java/turbojpeg.jar dev.conveyor.cli.Main "$@"
EOF
chmod 755 "$app/bin/conveyor"
layer() { # a reproducible tar of one layer's files
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=a+rX,go-w \
    -C "$1" -cf "$2" opt
}
layer "$work/libs" "$work/libs.tar"
layer "$work/app" "$work/app.tar"

# 3. the image: an OCI layout with the three layers and its configuration
rm -rf "$out/oci"
mkdir -p "$out"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:$tag"
umoci raw add-layer --image "$out/oci:$tag" "$base"
umoci raw add-layer --image "$out/oci:$tag" "$work/libs.tar"
umoci raw add-layer --image "$out/oci:$tag" "$work/app.tar"
umoci config --image "$out/oci:$tag" \
  --author "Conveyor" \
  --config.user 10001:10001 \
  --config.workingdir /opt/conveyor \
  --config.env PATH=/opt/conveyor/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
  --config.entrypoint /opt/conveyor/bin/conveyor \
  --config.cmd=--help \
  --config.exposedports 8080/tcp \
  --config.label org.opencontainers.image.title=conveyor \
  --config.label org.opencontainers.image.version="$tag" \
  --history.created_by "scripts/build-image.sh: entrypoint conveyor, user 10001" \
  --history.comment "Conveyor's configuration"
umoci gc --layout "$out/oci"
rm -f "$out/conveyor-oci.tar" "$out/conveyor-docker.tar"
skopeo copy --quiet "oci:$out/oci:$tag" "oci-archive:$out/conveyor-oci.tar:conveyor:$tag"
skopeo copy --quiet "oci:$out/oci:$tag" "docker-archive:$out/conveyor-docker.tar:conveyor:$tag"

size() { du -h --apparent-size "$1" | cut -f1; }
echo "build-image: conveyor:$tag in $out: OCI archive $(size "$out/conveyor-oci.tar"), for docker load $(size "$out/conveyor-docker.tar")"
echo "build-image: layers: Debian base $(size "$base") unpacked, libraries $(size "$work/libs.tar"), Conveyor $(size "$work/app.tar")"
