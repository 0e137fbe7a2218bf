#!/usr/bin/env bash
# The scaling curve: 1, 2, 4 and 8 workers, each on a host of its own (a Linux network namespace
# on this machine), on the Redis stream, the Redis list, the PostgreSQL queue and Kafka, with
# producers on this machine keeping the queue full. Each worker's model sleeps 50 ms per batch of
# 8 and uses no CPU, so what is measured is the broker and the workers' coordination with it.
# Prints the table (results/s, efficiency, the machine's CPU) and writes the chart.
#
#   scripts/bench-scaling.sh [--brokers stream,list,postgres,kafka] [--chart FILE]
#
# The chart goes to docs/scaling-hosts.png unless --chart says otherwise. About 6 minutes for the
# four brokers. Needs root, and: apt-get install iproute2 redis-server postgresql (Kafka comes
# from Maven Central).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
brokers="stream,list,postgres,kafka"
chart="$root/docs/scaling-hosts.png"
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="$2"; shift 2 ;;
    --chart) chart="$(readlink -f "$2")"; shift 2 ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-scaling: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench-scaling: run as root (it makes network namespaces)" >&2; exit 1; }
command -v ip >/dev/null || { echo "bench-scaling: ip is missing: apt-get install iproute2" >&2; exit 1; }

# the benchmark is a test class outside the suite (HostScalingBench), run by Maven's failsafe
# plugin with the modules it needs built first
echo "bench-scaling: building, then measuring $brokers (about 90 s each) …" >&2
./mvnw -B -ntp -q verify -pl cli -am -Dit.test=HostScalingBench -Dtest=NONE \
  -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  -Djazzer.skip -Dfuzz.skip -Dconveyor.scaling.brokers="$brokers" -Dconveyor.scaling.chart="$chart" >&2
sed -n '/^workers on hosts/,$p' cli/target/failsafe-reports/dev.conveyor.cli.HostScalingBench-output.txt
