#!/usr/bin/env bash
# Measures every path through Conveyor in one run: starts Redis, Kafka and PostgreSQL on free
# loopback ports (the servers the tests start: Debian's redis-server and postgresql, and Kafka's
# broker from its jars on Maven Central), runs `conveyor bench --every-path` through each of them,
# and stops them. Its arguments go to conveyor bench:
#   scripts/bench-every-path.sh --model models/bench/squeezenet1_1.onnx --images photos/ --batch 32
# Needs: apt-get install redis-server postgresql
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

# the engines' modules, built now rather than while the run measures
for engine in flink spark; do ./conveyor bench --engine "$engine" --help >/dev/null; done
. scripts/bench-servers.sh
echo "bench-every-path: Redis $redis, Kafka $kafka, PostgreSQL $postgres" >&2

./conveyor bench --every-path \
  --broker "$redis?mode=list" \
  --broker "$redis?mode=stream" \
  --broker "$redis?mode=pubsub" \
  --broker "$kafka?topic=bench&partitions=4" \
  --broker "$postgres?table=bench_queue" \
  "$@"
