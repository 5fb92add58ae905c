#!/usr/bin/env bash
# A real Apache Kafka (KRaft, no ZooKeeper) on loopback, for weir-export's
# tests and for trying it by hand.  The broker comes from Maven Central
# (org.apache.kafka:kafka_2.13) and runs on the machine's Java 17.
#
#   scripts/kafka.sh fetch                   the jars into $WEIR_KAFKA_HOME (once)
#   scripts/kafka.sh start DIR [N] [PORT]    N nodes (1 or 3; broker+controller each) on
#                                            PORT, PORT+10, ...; prints the bootstrap list
#                                            (refused when a port is taken; up only when
#                                            every node answers from its own process)
#   scripts/kafka.sh stop DIR                every node of DIR, and its files
#   scripts/kafka.sh kill DIR K              SIGKILL node K (1-based)
#   scripts/kafka.sh restart DIR K           start node K again, on its data (back when it answers)
#   scripts/kafka.sh pause|resume DIR K      SIGSTOP / SIGCONT node K (an unreachable broker)
#   scripts/kafka.sh consume BOOTSTRAP TOPIC Kafka's own console consumer, read_committed, from the
#                                            beginning until 10 s bring nothing: a line a record,
#                                            partition, offset, headers, key and value, tab-separated
set -euo pipefail
cd "$(dirname "$0")/.."

KAFKA_VERSION=${WEIR_KAFKA_VERSION:-4.4.0}
LOG4J_VERSION=2.25.5
HOME_DIR=${WEIR_KAFKA_HOME:-$HOME/.cache/weir/kafka-$KAFKA_VERSION}

fetch() {
  if [ -f "$HOME_DIR/libs/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$HOME_DIR/libs/kafka-tools-$KAFKA_VERSION.jar" ]; then
    return
  fi
  mkdir -p "$HOME_DIR"
  cat > "$HOME_DIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>weir</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION from Maven Central into $HOME_DIR" >&2
  (cd "$HOME_DIR" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=libs -DincludeScope=runtime >&2)
  cat > "$HOME_DIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = warn
logger.state.name = state.change.logger
logger.state.level = error
EOF
}

java_run() { # DIR K: node K of DIR in the background
  local dir=$1 k=$2
  nohup java -Xms256m -Xmx384m -XX:+UseSerialGC -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" \
    -cp "$HOME_DIR/libs/*" kafka.Kafka "$dir/node$k/server.properties" > "$dir/node$k/out.log" 2>&1 &
  echo $! > "$dir/node$k/pid"
}

port_of() { # DIR K -> the node's client port
  sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$1/node$2/server.properties"
}

listener_pid() { # PORT -> the pid listening on it on loopback, if any
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1
}

ports_free() { # BASE N: every port the nodes would take is free, or say which is not and whose
  local base=$1 n=$2
  for k in $(seq 1 "$n"); do
    for p in $((base + 10 * (k - 1))) $((base + 10 * (k - 1) + 1)); do
      if [ -n "$(ss -ltnH "sport = :$p" 2>/dev/null)" ]; then
        echo "kafka.sh: port $p is taken (pid $(listener_pid "$p")): another cluster runs there; give another PORT" >&2
        return 1
      fi
    done
  done
}

own_nodes_listen() { # DIR N: each node's client port is held by that node's own process
  local dir=$1 n=$2
  for k in $(seq 1 "$n"); do
    [ "$(listener_pid "$(port_of "$dir" "$k")")" = "$(cat "$dir/node$k/pid")" ] || return 1
  done
}

wait_up() { # DIR N: until every node answers, as itself, and sees N brokers
  local dir=$1 n=$2 boot=$3 deadline=$((SECONDS + 90))
  while ((SECONDS < deadline)); do
    if [ "$(kcat -b "$boot" -L -m 5 2>/dev/null | grep -c '^  broker ')" = "$n" ] && own_nodes_listen "$dir" "$n"; then
      return 0
    fi
    for k in $(seq 1 "$n"); do
      if ! kill -0 "$(cat "$dir/node$k/pid")" 2>/dev/null; then
        echo "kafka.sh: node $k exited:" >&2
        tail -20 "$dir/node$k/out.log" >&2
        return 1
      fi
    done
    sleep 0.5
  done
  echo "kafka.sh: $n brokers did not come up in 90 s" >&2
  return 1
}

start() {
  local dir=$1 n=${2:-1} base=${3:-19092}
  fetch
  ports_free "$base" "$n"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local voters="" boot="" rf=$((n < 3 ? n : 3)) minisr=$((n < 3 ? 1 : 2))
  for k in $(seq 1 "$n"); do
    voters+="${voters:+,}$k@127.0.0.1:$((base + 10 * (k - 1) + 1))"
    boot+="${boot:+,}127.0.0.1:$((base + 10 * (k - 1)))"
  done
  local cluster
  cluster=$(java -cp "$HOME_DIR/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  for k in $(seq 1 "$n"); do
    local p=$((base + 10 * (k - 1)))
    mkdir -p "$dir/node$k"
    cat > "$dir/node$k/server.properties" <<EOF
process.roles=broker,controller
node.id=$k
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$p,CONTROLLER://127.0.0.1:$((p + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$p
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/node$k/data
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=$minisr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$minisr
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
log.segment.bytes=67108864
EOF
    java -cp "$HOME_DIR/libs/*" kafka.tools.StorageTool format -t "$cluster" \
      -c "$dir/node$k/server.properties" > "$dir/node$k/format.log" 2>&1
    java_run "$dir" "$k"
  done
  echo "$boot" > "$dir/bootstrap"
  wait_up "$dir" "$n" "$boot"
  echo "$boot"
}

stop() {
  local dir=$1
  for pidf in "$dir"/node*/pid; do
    [ -f "$pidf" ] || continue
    local pid
    pid=$(cat "$pidf")
    kill -CONT "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidf"
  done
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "$2" "${3:-1}" "${4:-19092}" ;;
  stop) stop "$2"; rm -rf "$2" ;;
  kill) kill -9 "$(cat "$2/node$3/pid")" ;;
  restart) # node K again, on its data; back when it answers as itself with every broker of DIR seen
    java_run "$2" "$3"
    n=$(ls -d "$2"/node* | wc -l)
    wait_up "$2" "$n" "$(cat "$2/bootstrap")" ;;
  consume) # Kafka's own consumer (an oracle weir does not write), read_committed
    fetch
    java -Xmx256m -XX:+UseSerialGC -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" -cp "$HOME_DIR/libs/*" \
      org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$2" --topic "$3" --from-beginning \
      --isolation-level read_committed --timeout-ms 10000 \
      --formatter-property print.partition=true --formatter-property print.offset=true \
      --formatter-property print.headers=true --formatter-property print.key=true \
      --formatter-property print.value=true ;;
  pause) kill -STOP "$(cat "$2/node$3/pid")" ;;
  resume) kill -CONT "$(cat "$2/node$3/pid")" ;;
  *) sed -n '2,19p' "$0" >&2; exit 2 ;;
esac
