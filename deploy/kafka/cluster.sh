#!/usr/bin/env bash
# A secured 3-node Apache Kafka cluster (KRaft; every node a combined broker + controller) on loopback,
# from the same Maven jars as kafka.sh. The single development broker (kafka.sh) stays open; this is
# the shape of every other environment: nobody talks to it without a password, and each principal
# may do only what its ACLs allow (see shared/kafka_security.py).
#
#   deploy/kafka/cluster.sh start          fetch jars if needed, format storage if new (with the SCRAM users),
#                                          start the three nodes, wait until all three serve, print the bootstrap list
#   deploy/kafka/cluster.sh stop           stop the three nodes started from KAFKA_DATA_DIR
#   deploy/kafka/cluster.sh status         which nodes run and answer (exit 0 only if all three do)
#   deploy/kafka/cluster.sh bootstrap      print the bootstrap list
#   deploy/kafka/cluster.sh env USER       print `export KAFKA_...=` lines for USER (admin, ohs-registry, ...)
#   deploy/kafka/cluster.sh stop-node N    stop node N (1-3) alone, the other two go on (a rolling restart, a fault test)
#   deploy/kafka/cluster.sh start-node N   start node N again (its storage kept) and wait until it serves; its previous
#                                          log is kept as node.log.1 (node N's pid is in KAFKA_DATA_DIR/nodeN/node.pid)
#
# Security:
#   clients and brokers:  SASL_PLAINTEXT + SCRAM-SHA-512 on 127.0.0.1:PORT..PORT+2 (listener CLIENT; the
#                         brokers replicate over it as User:admin)
#   controllers:          SASL_PLAINTEXT + PLAIN (user admin, from the node's own 0600 properties) on PORT+3..PORT+5
#   authoriser:           StandardAuthorizer, super.users=User:admin, allow.everyone.if.no.acl.found=false
#   durability:           default and internal topics replication factor 3, min.insync.replicas=2
#   SCRAM users:          admin and one per service (ohs-assessment, ohs-registry, ohs-sampling, ohs-penalty, ohs-notification, ohs-console, ohs-monitoring) and ohs-gateway (the monitoring gateways),
#                         created when the storage is formatted (--add-scram). Passwords come from
#                         KAFKA_PASSWORD_<USER> (e.g. KAFKA_PASSWORD_ADMIN, KAFKA_PASSWORD_OHS_REGISTRY), else are
#                         generated; either way they are kept in KAFKA_DATA_DIR/credentials (mode 0600, user=password
#                         lines). They are fixed at format time: change them later with the admin client.
#   then, as admin:       eval "$(deploy/kafka/cluster.sh env admin)"; python -m shared.kafka_security apply
#                         (creates the topics, RF 3 / min ISR 2, and makes each service's ACLs; idempotent)
#   and each service:     eval "$(deploy/kafka/cluster.sh env ohs-registry)"; python -m services.registry
#
# Environment:
#   KAFKA_CACHE_DIR     where jars are kept across runs        (default ~/.cache/ohs-kafka, shared with kafka.sh)
#   KAFKA_DATA_DIR      node dirs, credentials, pid files, logs (default .run/kafka-cluster in the repo)
#   KAFKA_CLUSTER_PORT  first port on 127.0.0.1                (default 29092; six ports: clients PORT..PORT+2,
#                                                               controllers PORT+3..PORT+5)
#   KAFKA_HEAP          JVM heap of each node                  (default 512m)
set -euo pipefail
umask 077  # credentials and node properties hold passwords

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${KAFKA_CACHE_DIR:-$HOME/.cache/ohs-kafka}/$version"
data="${KAFKA_DATA_DIR:-$repo/.run/kafka-cluster}"
base="${KAFKA_CLUSTER_PORT:-29092}"
heap="${KAFKA_HEAP:-512m}"
nodes=(1 2 3)
users=(admin ohs-assessment ohs-registry ohs-sampling ohs-penalty ohs-notification ohs-console ohs-monitoring ohs-gateway)
credentials="$data/credentials"

log() { printf 'kafka-cluster: %s\n' "$*" >&2; }

client_port() { echo $((base + $1 - 1)); }
controller_port() { echo $((base + 2 + $1)); }
bootstrap() {
  local list="" i
  for i in "${nodes[@]}"; do list="${list:+$list,}127.0.0.1:$(client_port "$i")"; done
  echo "$list"
}

java_cmd() { java -Xms128m -Xmx"$heap" -Dlog4j2.configurationFile="$here/cluster-log4j2.properties" -cp "$cache/libs/*" "$@"; }
# exec, so that the pid recorded for the background job is the JVM itself, not a subshell
java_exec() { exec java -Xms128m -Xmx"$heap" -Dlog4j2.configurationFile="$here/cluster-log4j2.properties" -cp "$cache/libs/*" "$@"; }

env_name() { local u="${1^^}"; echo "KAFKA_PASSWORD_${u//-/_}"; }
password_of() { sed -n "s/^$1=//p" "$credentials" | head -1; }

make_credentials() {
  [ -f "$credentials" ] && return 0
  local user var pw
  : > "$credentials.new"
  for user in "${users[@]}"; do
    var="$(env_name "$user")"
    pw="${!var:-}"
    if [ -z "$pw" ]; then
      pw="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32)"
    elif ! [[ "$pw" =~ ^[A-Za-z0-9._~+/@%^-]{8,}$ ]]; then
      log "$var must be at least 8 characters of A-Z a-z 0-9 . _ ~ + / @ % ^ -"; rm -f "$credentials.new"; exit 1
    fi
    echo "$user=$pw" >> "$credentials.new"
  done
  chmod 600 "$credentials.new"
  mv "$credentials.new" "$credentials"
}

quorum_voters() {
  local list="" i
  for i in "${nodes[@]}"; do list="${list:+$list,}$i@127.0.0.1:$(controller_port "$i")"; done
  echo "$list"
}

configure() {
  local i="$1" dir="$data/node$1" admin_pw
  admin_pw="$(password_of admin)"
  mkdir -p "$dir/logs"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(quorum_voters)
listeners=CLIENT://127.0.0.1:$(client_port "$i"),CONTROLLER://127.0.0.1:$(controller_port "$i")
advertised.listeners=CLIENT://127.0.0.1:$(client_port "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pw";
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_pw" user_admin="$admin_pw";
sasl.mechanism.controller.protocol=PLAIN
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=$dir/logs
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
auto.create.topics.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
PROPS
}

format_all() {
  local scram=() user i pids=() pid id
  for user in "${users[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(password_of "$user")]"); done
  id="$(java_cmd kafka.tools.StorageTool random-uuid)"
  log "formatting KRaft storage of nodes ${nodes[*]} (cluster $id) with SCRAM users ${users[*]}"
  for i in "${nodes[@]}"; do
    java_cmd kafka.tools.StorageTool format -t "$id" -c "$data/node$i/server.properties" "${scram[@]}" \
      >"$data/node$i/format.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || { log "formatting failed; see $data/node*/format.log"; cat "$data"/node*/format.log >&2; exit 1; }
  done
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [ -f "$data/node$1/node.pid" ] && kill -0 "$(cat "$data/node$1/node.pid")" 2>/dev/null; }
# "Kafka Server started" is logged once the broker is registered and unfenced, i.e. it serves clients
serving() { answers "$(client_port "$1")" && grep -q "Kafka Server started" "$data/node$1/node.log" 2>/dev/null; }

wait_ready() {
  local i ready
  for _ in $(seq 1 240); do
    ready=0
    for i in "${nodes[@]}"; do
      if ! running "$i"; then
        log "node $i exited during start-up; see $data/node$i/node.log"; tail -20 "$data/node$i/node.log" >&2; return 1
      fi
      serving "$i" && ready=$((ready + 1))
    done
    if [ "$ready" -eq "${#nodes[@]}" ]; then
      log "all ${#nodes[@]} nodes serve (SASL_PLAINTEXT, SCRAM-SHA-512); credentials in $credentials"
      bootstrap
      return 0
    fi
    sleep 0.5
  done
  log "the cluster did not come up within 120 s; see $data/node*/node.log"; return 1
}

start() {
  local i
  if running 1 && running 2 && running 3; then log "already running"; wait_ready; return 0; fi
  for i in "${nodes[@]}"; do
    if running "$i"; then log "node $i is running but not all are: run stop first"; exit 1; fi
    if answers "$(client_port "$i")" || answers "$(controller_port "$i")"; then
      log "port $(client_port "$i") or $(controller_port "$i") is taken by another process"; exit 1
    fi
  done
  command -v java >/dev/null || { log "Java 17+ is required to run the brokers"; exit 1; }
  "$here/kafka.sh" fetch
  mkdir -p "$data"
  make_credentials
  for i in "${nodes[@]}"; do configure "$i"; done
  [ -f "$data/node1/logs/meta.properties" ] || format_all
  for i in "${nodes[@]}"; do
    java_exec kafka.Kafka "$data/node$i/server.properties" >"$data/node$i/node.log" 2>&1 &
    echo $! > "$data/node$i/node.pid"
  done
  wait_ready
}

stop() {
  local i pid pids=()
  # all at once: a node stopping alone would wait for a controller quorum the others already left
  for i in "${nodes[@]}"; do
    [ -f "$data/node$i/node.pid" ] || continue
    pid="$(cat "$data/node$i/node.pid")"
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; pids+=("$pid"); fi
  done
  if [ "${#pids[@]}" -eq 0 ]; then log "not running (no live node in $data)"; rm -f "$data"/node*/node.pid; return 0; fi
  for _ in $(seq 1 60); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then log "node pid $pid did not stop in 30 s; killing"; kill -KILL "$pid"; fi
  done
  rm -f "$data"/node*/node.pid
  log "stopped"
}

node_number() {
  case "${1:-}" in 1|2|3) echo "$1" ;; *) log "a node number, 1 to ${#nodes[@]}, please"; exit 2 ;; esac
}

start_node() {
  local i; i="$(node_number "${1:-}")"
  [ -f "$data/node$i/logs/meta.properties" ] || { log "node $i has no storage in $data: run start first"; exit 1; }
  if running "$i"; then log "node $i is already running (pid $(cat "$data/node$i/node.pid"))"; else
    if answers "$(client_port "$i")" || answers "$(controller_port "$i")"; then
      log "port $(client_port "$i") or $(controller_port "$i") is taken by another process"; exit 1
    fi
    configure "$i"
    [ -f "$data/node$i/node.log" ] && mv "$data/node$i/node.log" "$data/node$i/node.log.1"
    java_exec kafka.Kafka "$data/node$i/server.properties" >"$data/node$i/node.log" 2>&1 &
    echo $! > "$data/node$i/node.pid"
  fi
  for _ in $(seq 1 240); do
    if ! running "$i"; then log "node $i exited during start-up; see $data/node$i/node.log"; tail -20 "$data/node$i/node.log" >&2; exit 1; fi
    if serving "$i"; then log "node $i serves on 127.0.0.1:$(client_port "$i")"; return 0; fi
    sleep 0.5
  done
  log "node $i did not come up within 120 s; see $data/node$i/node.log"; exit 1
}

stop_node() {
  local i pid; i="$(node_number "${1:-}")"
  if ! running "$i"; then log "node $i is not running"; rm -f "$data/node$i/node.pid"; return 0; fi
  pid="$(cat "$data/node$i/node.pid")"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "node $i (pid $pid) did not stop in 30 s; killing"; kill -KILL "$pid"; fi
  rm -f "$data/node$i/node.pid"
  log "node $i stopped"
}

status() {
  local i up=0
  for i in "${nodes[@]}"; do
    if running "$i" && serving "$i"; then
      echo "node $i: serving on 127.0.0.1:$(client_port "$i") (pid $(cat "$data/node$i/node.pid"))"; up=$((up + 1))
    elif running "$i"; then
      echo "node $i: starting (pid $(cat "$data/node$i/node.pid"))"
    else
      echo "node $i: stopped"
    fi
  done
  echo "bootstrap: $(bootstrap)"
  [ "$up" -eq "${#nodes[@]}" ]
}

print_env() {
  local user="${1:-}"
  [ -f "$credentials" ] || { log "no credentials yet: start the cluster first"; exit 1; }
  [ -n "$(password_of "$user")" ] || { log "unknown user '$user' (one of: ${users[*]})"; exit 2; }
  echo "export KAFKA_BOOTSTRAP_SERVERS=$(bootstrap)"
  echo "export KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"
  echo "export KAFKA_SASL_MECHANISM=SCRAM-SHA-512"
  echo "export KAFKA_SASL_USERNAME=$user"
  echo "export KAFKA_SASL_PASSWORD=$(password_of "$user")"
  echo "export KAFKA_REPLICATION_FACTOR=3"   # topics the admin creates
  echo "export KAFKA_MIN_INSYNC_REPLICAS=2"  # their min.insync.replicas; the services' producers then use acks=all
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  bootstrap) bootstrap ;;
  env) print_env "${2:-}" ;;
  start-node) start_node "${2:-}" ;;
  stop-node) stop_node "${2:-}" ;;
  *) sed -n '2,37p' "$0"; exit 2 ;;
esac
