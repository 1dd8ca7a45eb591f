#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft, combined broker + controller) on loopback, from Maven jars.
#
#   deploy/kafka/kafka.sh fetch            download the pinned broker jars into the cache (once)
#   deploy/kafka/kafka.sh start            fetch if needed, format storage if new, start, wait until it answers
#   deploy/kafka/kafka.sh stop             stop the broker started from KAFKA_DATA_DIR, cleanly
#   deploy/kafka/kafka.sh foreground       like start, but stays attached (used by `make run`)
#
# Environment:
#   KAFKA_CACHE_DIR  where jars are kept across runs     (default ~/.cache/ohs-kafka)
#   KAFKA_DATA_DIR   log dirs, pid file, broker log      (default .run/kafka in the repo)
#   KAFKA_PORT       client port on 127.0.0.1            (default 9092; controller uses port+1)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${KAFKA_CACHE_DIR:-$HOME/.cache/ohs-kafka}/$version"
data="${KAFKA_DATA_DIR:-$repo/.run/kafka}"
port="${KAFKA_PORT:-9092}"
cport=$((port + 1))

log() { printf 'kafka: %s\n' "$*" >&2; }

fetch() {
  if [ -f "$cache/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the broker jars"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is required to run the broker"; exit 1; }
  log "fetching Apache Kafka $version jars into $cache"
  mkdir -p "$cache/libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$cache/libs"
  touch "$cache/.complete"
}

java_cmd() { java -Xms256m -Xmx1g -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$cache/libs/*" "$@"; }
# exec, so that the pid recorded for the background job is the JVM itself, not a subshell
java_exec() { exec java -Xms256m -Xmx1g -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$cache/libs/*" "$@"; }

configure() {
  mkdir -p "$data/logs"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/logs
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
PROPS
  if [ ! -f "$data/logs/meta.properties" ]; then
    local id
    id="$(java_cmd kafka.tools.StorageTool random-uuid)"
    log "formatting KRaft storage in $data/logs (cluster $id)"
    java_cmd kafka.tools.StorageTool format --standalone -t "$id" -c "$data/server.properties" >/dev/null
  fi
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

wait_ready() {
  for _ in $(seq 1 120); do
    if answers; then
      # the port opens a little before the broker is registered with the controller
      sleep 1; log "broker answers on 127.0.0.1:$port"; return 0
    fi
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
      log "broker exited during start-up; see $data/broker.log"; tail -20 "$data/broker.log" >&2; return 1
    fi
    sleep 0.5
  done
  log "broker did not answer on 127.0.0.1:$port within 60 s; see $data/broker.log"; return 1
}

start() {
  if [ -f "$data/broker.pid" ] && kill -0 "$(cat "$data/broker.pid")" 2>/dev/null; then
    log "already running (pid $(cat "$data/broker.pid"))"; wait_ready; return 0
  fi
  if answers; then log "port $port is taken by another process"; exit 1; fi
  fetch; configure
  java_exec kafka.Kafka "$data/server.properties" >"$data/broker.log" 2>&1 &
  echo $! > "$data/broker.pid"
  wait_ready "$!"
}

stop() {
  [ -f "$data/broker.pid" ] || { log "not running (no pid file in $data)"; return 0; }
  local pid; pid="$(cat "$data/broker.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then log "broker did not stop in 30 s; killing"; kill -KILL "$pid"; fi
    log "stopped"
  fi
  rm -f "$data/broker.pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  foreground) start; trap stop EXIT INT TERM; wait "$(cat "$data/broker.pid")" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
