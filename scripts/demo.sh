#!/usr/bin/env bash
# The main job on the embedded default: generate about a million MoldUDP64
# messages (a few percent malformed; packets lost, repeated and reordered),
# run weir-dataplane on net_pcap with weir-control draining into the log,
# and check the result against the generator's manifest.  No NIC needed.
#   WEIR_DEMO_MESSAGES  messages to generate (default 1000000)
#   WEIR_DEMO_DIR       where the capture, log and reports go (default out/demo)
#   WEIR_BINDIR         an installed weir's programs (the container): no set-up, no build
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${WEIR_BINDIR:-}" ]; then
  scripts/hugepages.sh
else
  scripts/setup.sh
fi
# shellcheck disable=SC1091
. build/eal-mem.env
# Each program, from the build tree or from WEIR_BINDIR.
prog() {
  if [ -n "${WEIR_BINDIR:-}" ]; then echo "$WEIR_BINDIR/$1"
  else case $1 in weir-dataplane) echo build/dataplane/$1 ;; weir-control) echo build/control/$1 ;;
                  *) echo build/tools/$1 ;; esac
  fi
}
GEN=$(prog weir-gen) DATAPLANE=$(prog weir-dataplane) CONTROL=$(prog weir-control)
STAT=$(prog weir-stat) READ=$(prog weir-read) CHECK=$(prog weir-check)

messages=${WEIR_DEMO_MESSAGES:-1000000}
dir=${WEIR_DEMO_DIR:-$PWD/out/demo}
export WEIR_PREFIX=weir-demo-$$
# The capture is named by a short link: DPDK hands secondaries only 63
# characters of a vdev's arguments, and weir refuses longer ones.
export WEIR_PCAP=/tmp/weir-demo-$$.pcap WEIR_LOG_DIR=$dir/log WEIR_EAL_MEM
rm -rf "$dir" && mkdir -p "$dir"

cleanup() {
  kill "${dp_pid:-}" "${cp_pid:-}" "${stat_pid:-}" 2>/dev/null || true
  rm -rf "/var/run/dpdk/$WEIR_PREFIX" /dev/hugepages/"$WEIR_PREFIX"map_* /dev/hugepages/weir."$WEIR_PREFIX".* /dev/shm/weir."$WEIR_PREFIX".* "$WEIR_PCAP" 2>/dev/null || true
}
trap cleanup EXIT

echo "== 1. traffic: weir-gen writes the capture and its ground truth"
ln -sfn "$dir/traffic.pcap" "$WEIR_PCAP"
"$GEN" pcap --out "$dir/traffic.pcap" --manifest "$dir/manifest.json" --seed 42 \
  --messages "$messages" --sessions 16 --per-packet 1-8 --payload 8-96 \
  --malformed-rate 0.03 --filtered-rate 0.01 --vlan-rate 0.1 --ipv6-rate 0.1 \
  --heartbeat-every 50 --end-session \
  --loss 0.005 --burst-loss 3 --duplicate 0.005 --reorder 0.01 --reorder-distance 16

echo "== 2. weir-dataplane on pmd-config/demo-pcap.conf (net_pcap) + weir-control draining to $WEIR_LOG_DIR"
"$DATAPLANE" --check pmd-config/demo-pcap.conf
start=$(date +%s%N)
"$DATAPLANE" -f pmd-config/demo-pcap.conf --stop-when-idle 2 \
  --stats-json "$dir/dataplane.json" > "$dir/dataplane.log" 2>&1 &
dp_pid=$!
"$CONTROL" -f pmd-config/demo-pcap.conf --exit-when-done --summary-interval 0 \
  --stats-json "$dir/control.json" > "$dir/control.log" 2>&1 &
cp_pid=$!
# The progress line: weir-stat, attached read-only, once a second.
"$STAT" -f pmd-config/demo-pcap.conf --interval 1 2>/dev/null | grep --line-buffered -v '^EAL' \
  | sed -u 's/^/   progress: /' &
stat_pid=$!
dp_rc=0; wait "$dp_pid" || dp_rc=$?
cp_rc=0; wait "$cp_pid" || cp_rc=$?
end=$(date +%s%N)
kill "$stat_pid" 2>/dev/null; pkill -f "weir-stat -f pmd-config/demo-pcap.conf" 2>/dev/null || true
sed 's/^/   /' "$dir/control.log"
sed -n '/final counters/,$p' "$dir/dataplane.log"
ms=$(( (end - start) / 1000000 ))
echo "   weir-dataplane exit $dp_rc, weir-control exit $cp_rc, wall time $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"

echo "== 3. the loss report the dataplane left beside the log (first sources)"
/usr/bin/python3 - "$WEIR_LOG_DIR/loss-report.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["sources"]
print(f"   {'source':<10} {'last seq':>9} {'gaps':>6} {'missing':>8} {'recovered':>9} {'lost':>6} {'dups':>6}")
for r in rows[:6]:
    print(f"   {r['source']:<10} {r['last_seq']:>9} {r['gaps_opened']:>6} {r['events_missing']:>8} "
          f"{r['recovered']:>9} {r['lost']:>6} {r['duplicates']:>6}")
print(f"   ... {len(rows)} sources: {sum(r['lost'] for r in rows)} events lost, "
      f"{sum(r['recovered'] for r in rows)} recovered late, {sum(r['duplicates'] for r in rows)} duplicates")
PY

echo "== 4. the log, verified (CRC and offsets) by weir-read"
"$READ" --verify "$WEIR_LOG_DIR"

echo "== 5. against the manifest"
"$CHECK" --manifest "$dir/manifest.json" --log "$WEIR_LOG_DIR" --dataplane-stats "$dir/dataplane.json"
rc=$?
[ "$dp_rc" = 0 ] && [ "$cp_rc" = 0 ] || { echo "demo: FAIL (a process exited non-zero)"; exit 1; }
exit $rc
