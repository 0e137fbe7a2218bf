# Starts Redis, Kafka and PostgreSQL on free loopback ports for a bench script, the servers the
# tests start (Debian's redis-server and postgresql, and Kafka's broker from its jars on Maven
# Central), and stops them when the script exits. Sourced, from the project's root; it sets
# $redis, $kafka and $postgres to their URIs.

# the servers' class path: the kafka module's tests', which hold the test support and Kafka's broker
classpath=kafka/target/bench-servers.classpath
if [ ! -f "$classpath" ] || [ -n "$(find testing kafka pom.xml -path '*/target' -prune -o \
    \( -name pom.xml -o -path '*/src/main/*' \) -newer "$classpath" -print -quit)" ]; then
  echo "${0##*/}: building the servers' class path …" >&2
  ./mvnw -q -B -ntp -pl testing,kafka -am -DskipTests -Djazzer.skip -Dfuzz.skip package \
    dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-servers.classpath >&2
fi

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
  echo "${0##*/}: the servers did not start; see the messages above" >&2
  exit 1
fi
