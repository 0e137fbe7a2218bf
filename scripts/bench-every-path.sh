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

# the servers' class path: the kafka module's tests', which hold the test support and Kafka's broker
classpath=kafka/target/bench-servers.classpath
if [ ! -f "$classpath" ] || [ -n "$(find testing kafka pom.xml -path '*/target' -prune -o \
    \( -name pom.xml -o -path '*/src/main/*' \) -newer "$classpath" -print -quit)" ]; then
  echo "bench-every-path: building the servers' class path …" >&2
  ./mvnw -q -B -ntp -pl testing,kafka -am -DskipTests -Djazzer.skip -Dfuzz.skip package \
    dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-servers.classpath >&2
fi
# the engines' modules, built now rather than while the run measures
for engine in flink spark; do ./conveyor bench --engine "$engine" --help >/dev/null; done

coproc SERVERS { exec java -cp "$(cat "$classpath")" dev.conveyor.testing.LocalServers redis kafka postgres; }
servers_pid=$SERVERS_PID
to_servers=${SERVERS[1]}
stop() {
  exec {to_servers}>&-
  wait "$servers_pid" 2>/dev/null || true
}
trap stop EXIT
redis="" kafka="" postgres=""
while IFS= read -r line <&"${SERVERS[0]}"; do
  case "$line" in
    redis=*) redis=${line#redis=} ;;
    kafka=*) kafka=${line#kafka=} ;;
    postgres=*) postgres=${line#postgres=} ;;
    ready) break ;;
  esac
done
if [ -z "$redis" ] || [ -z "$kafka" ] || [ -z "$postgres" ]; then
  echo "bench-every-path: the servers did not start; see the messages above" >&2
  exit 1
fi
echo "bench-every-path: Redis $redis, Kafka $kafka, PostgreSQL $postgres" >&2

./conveyor bench --every-path \
  --broker "$redis?mode=list" \
  --broker "$redis?mode=stream" \
  --broker "$redis?mode=pubsub" \
  --broker "$kafka?topic=bench&partitions=4" \
  --broker "$postgres?table=bench_queue" \
  "$@"
