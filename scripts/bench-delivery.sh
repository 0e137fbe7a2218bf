#!/usr/bin/env bash
# What delivery exactly once costs: starts Redis, Kafka and PostgreSQL on free loopback ports, runs
# `conveyor bench --every-path` through the Redis list, the Redis stream, the PostgreSQL queue and
# Kafka, each at least once and exactly once, in one run (images/s against the raw model, and CPU time per
# image); then Kafka into PostgreSQL (--results-to), at least once and exactly once, in a second
# run; and stops them. Its arguments go to conveyor bench:
#   scripts/bench-delivery.sh --model models/bench/squeezenet1_1.onnx --images photos/ --batch 32
#   scripts/bench-delivery.sh --kafka-to-postgresql … runs the second run only
# Needs: apt-get install redis-server postgresql
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

. scripts/bench-servers.sh
echo "bench-delivery: Redis $redis, Kafka $kafka, PostgreSQL $postgres" >&2

if [ "${1:-}" = "--kafka-to-postgresql" ]; then
  shift
else
./conveyor bench --every-path --engines none \
  --broker "$redis?mode=list" \
  --broker "$redis?mode=list&images=once:images&results=once:results&delivery=exactly-once" \
  --broker "$redis?mode=stream" \
  --broker "$redis?mode=stream&images=once:images&results=once:results&delivery=exactly-once" \
  --broker "$postgres?table=bench_queue" \
  --broker "$postgres?table=bench_once&results=bench_once_results&delivery=exactly-once" \
  --broker "$kafka?topic=bench&partitions=4" \
  --broker "$kafka?topic=bench_once&results=bench_once_results&partitions=4&delivery=exactly-once" \
  "$@"
fi

# Kafka into PostgreSQL: at least once, results to the results topic and the table; exactly once,
# each batch's results and offsets in one transaction of the table (the topic gets them after)
./conveyor bench --every-path --engines none \
  --broker "$kafka?topic=bench_kpg&partitions=4" \
  --broker "$kafka?topic=bench_kpg_once&partitions=4&delivery=exactly-once" \
  --results-to "$postgres?results=bench_kpg_results" \
  "$@"
