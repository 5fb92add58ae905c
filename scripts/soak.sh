#!/usr/bin/env bash
# The soak (not part of CI): WEIR_SOAK_EVENTS events (default 1e9) through
# weir in captures of WEIR_SOAK_CHUNK events (default 1e7, what weir-check
# holds in memory), each with the demo's fault mix (loss, burst loss,
# duplication, reordering, malformed and filtered packets), replayed on
# net_pcap with backpressure.  Meanwhile weir-control is SIGKILLed every
# WEIR_SOAK_KILL_EVERY seconds (default 120) and started again, and once,
# in the middle capture, the dataplane is SIGKILLed a quarter in and started
# again on the same capture.
# After each capture: every dataplane run's accounting identity holds
# exactly, and weir-check finds the log exact against the manifest.
#   scripts/soak.sh            # out/soak/soak.log has the per-capture lines
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null || exit 1
# shellcheck disable=SC1091
. build/eal-mem.env
events=${WEIR_SOAK_EVENTS:-1000000000}
chunk=${WEIR_SOAK_CHUNK:-10000000}
kill_every=${WEIR_SOAK_KILL_EVERY:-120}
dir=${WEIR_SOAK_DIR:-$PWD/out/soak}
chunks=$(( (events + chunk - 1) / chunk ))
restart_at=$(( (chunks + 1) / 2 ))
export WEIR_PREFIX=weir-soak-$$ WEIR_PCAP=/tmp/weir-soak-$$.pcap WEIR_EAL_MEM
mkdir -p "$dir"
conf=pmd-config/demo-pcap.conf
cp_pid="" dp_pid=""
cleanup() {
  kill "$dp_pid" "$cp_pid" 2>/dev/null || true
  rm -rf "/var/run/dpdk/$WEIR_PREFIX" /dev/hugepages/"$WEIR_PREFIX"map_* /dev/hugepages/weir."$WEIR_PREFIX".* /dev/shm/weir."$WEIR_PREFIX".* "$WEIR_PCAP"
}
trap cleanup EXIT

start_control() {
  build/control/weir-control -f "$conf" --exit-when-done --summary-interval 0 >> "$1/control.log" 2>&1 &
  cp_pid=$!
}

# Waits for the dataplane, killing and restarting weir-control on the
# schedule; with $2, kills the dataplane once $2 events are in and starts
# it again on the same capture.
run_dataplane() {
  local cdir=$1 kill_dp_at=${2:-} run=1
  build/dataplane/weir-dataplane -f "$conf" --stop-when-idle 3 --stats-interval 0.05 \
    --stats-json "$cdir/dataplane.$run.json" > "$cdir/dataplane.$run.log" 2>&1 &
  dp_pid=$!
  start_control "$cdir"
  while kill -0 "$dp_pid" 2>/dev/null; do
    sleep 0.05
    kill -0 "$dp_pid" 2>/dev/null || break  # a weir-control started now would wait for the next
    if [ "$(date +%s)" -ge "$next_kill" ]; then
      kill -9 "$cp_pid" 2>/dev/null; wait "$cp_pid" 2>/dev/null
      kills=$((kills + 1)); next_kill=$(( $(date +%s) + kill_every ))
      start_control "$cdir"
    fi
    if [ -n "$kill_dp_at" ] && [ "$(events_in "$cdir/dataplane.$run.log")" -ge "$kill_dp_at" ]; then
      kill -9 "$dp_pid"; wait "$dp_pid" 2>/dev/null
      wait "$cp_pid" 2>/dev/null  # it drains what the dead one published, then exits
      kill_dp_at="" run=2 restarts=$((restarts + 1))
      build/dataplane/weir-dataplane -f "$conf" --stop-when-idle 3 --stats-json "$cdir/dataplane.$run.json" \
        > "$cdir/dataplane.$run.log" 2>&1 &
      dp_pid=$!
      start_control "$cdir"
    fi
  done
  wait "$dp_pid"; local rc=$?
  wait "$cp_pid" || rc=1
  return $rc
}

# Events the dataplane has committed, from its progress lines (cheap: read
# the log's verify instead and the run is over before it answers).
events_in() {
  awk '/^weir-dataplane: rx / {for (i = 1; i < NF; i++) if ($i == "events") n = $(i+1)} END {print n + 0}' "$1"
}

next_kill=$(( $(date +%s) + kill_every ))
kills=0 restarts=0 failed=0 total=0 t0=$(date +%s)
echo "soak: $events events in $chunks captures of $chunk; weir-control killed every ${kill_every}s; the dataplane once, in capture $restart_at" | tee "$dir/soak.log"
for ((c = 1; c <= chunks; c++)); do
  cdir=$dir/c$c; rm -rf "$cdir"; mkdir -p "$cdir"
  export WEIR_LOG_DIR=$cdir/log
  build/tools/weir-gen pcap --out "$cdir/t.pcap" --manifest "$cdir/manifest.json" --seed "$c" \
    --messages "$chunk" --sessions 16 --per-packet 1-8 --payload 8-96 \
    --malformed-rate 0.03 --filtered-rate 0.01 --vlan-rate 0.1 --ipv6-rate 0.1 \
    --heartbeat-every 50 --end-session \
    --loss 0.005 --burst-loss 3 --duplicate 0.005 --reorder 0.01 --reorder-distance 16 > /dev/null
  ln -sfn "$cdir/t.pcap" "$WEIR_PCAP"
  # The dataplane goes down a quarter in: well before its sessions end.
  run_dataplane "$cdir" $([ "$c" = "$restart_at" ] && echo $((chunk / 4))); rc=$?
  identity=$(/usr/bin/python3 -c 'import json,sys; print(all(json.load(open(p))["identity_holds"] for p in sys.argv[1:]))' "$cdir"/dataplane.*.json)
  stats=(--dataplane-stats "$cdir/dataplane.1.json")
  # Restarted on the same capture: the counters are each run's, and the
  # malformed packets came again; the log's events are checked whole.
  [ -f "$cdir/dataplane.2.json" ] && stats=(--replayed)
  check=$(build/tools/weir-check --quiet --manifest "$cdir/manifest.json" --log "$cdir/log" "${stats[@]}" 2>&1 | tail -1)
  ok=0; [ "$rc" = 0 ] && [ "$identity" = True ] && [[ "$check" == *PASS* ]] && ok=1
  [ $ok = 1 ] || failed=$((failed + 1))
  total=$((total + chunk))
  echo "soak: capture $c/$chunks: exit $rc, identity $identity, weir-check: $check; $total events, $kills control kills, $restarts dataplane restarts, $(( $(date +%s) - t0 )) s" | tee -a "$dir/soak.log"
  [ $ok = 1 ] && rm -rf "$cdir/t.pcap" "$cdir/log"  # kept when it failed
done
echo "soak: $total events, $kills control kills, $restarts dataplane restart(s), $(( $(date +%s) - t0 )) s: $((chunks - failed)) passed, $failed failed" | tee -a "$dir/soak.log"
[ $failed = 0 ]
