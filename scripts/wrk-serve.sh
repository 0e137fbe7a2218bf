#!/usr/bin/env bash
# Loads a running `conveyor serve` with wrk (an external load generator: its CPU is not the
# server's) posting one image per request to /v1/classify, and reports the server's requests per
# second and its CPU time per request, read from /proc for the serve process. Needs Debian's wrk.
# The server is loaded for WARMUP seconds first (20): a freshly started JVM compiles its hot code
# under the first load, and measured at once reads a third lower than it runs after that.
#   scripts/wrk-serve.sh IMAGE [URL] [CONNECTIONS] [SECONDS] [WARMUP]
#   scripts/wrk-serve.sh fashion-png/Bag/00018.png http://127.0.0.1:8080 32 10
set -euo pipefail
image=${1:?usage: wrk-serve.sh IMAGE [URL] [CONNECTIONS] [SECONDS] [WARMUP]}
url=${2:-http://127.0.0.1:8080}
connections=${3:-32}
seconds=${4:-10}
warmup=${5:-20}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
port=${url##*:}
port=${port%%/*}
pid=$(ss -ltnpH "sport = :$port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -n "$pid" ] || { echo "no process listens on port $port" >&2; exit 1; }
type=application/octet-stream
case "$image" in *.png) type=image/png ;; *.jpg | *.jpeg) type=image/jpeg ;; esac
script=$(mktemp --suffix=.lua)
trap 'rm -f "$script"' EXIT
cat >"$script" <<LUA
local f = io.open("$image", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "$type"
${CONVEYOR_TOKEN:+wrk.headers["Authorization"] = "Bearer $CONVEYOR_TOKEN"}
LUA
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# the warm-up, then the measured run; one wrk thread leaves the other core to the server
wrk -t1 -c"$connections" -d"${warmup}s" -s "$script" "$url/v1/classify" >/dev/null
before=$(cpu)
out=$(wrk -t1 --latency -c"$connections" -d"${seconds}s" -s "$script" "$url/v1/classify")
after=$(cpu)
echo "$out"
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
awk -v c=$((after - before)) -v t="$ticks" -v s="$seconds" -v r="$rps" -v bad="${non2xx:-0}" \
  'BEGIN {printf "serve: %.0f requests/s (%s not 2xx), %.3f ms of CPU per request (%.2f cores busy)\n", r, bad, 1000 * c / t / (s * r), c / t / s}'
