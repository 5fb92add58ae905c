#!/usr/bin/env bash
# Fuzzes the packet path (every decoder, the burst scan), the log reader and the config parser with libFuzzer
# and ASan/UBSan (clang).  Opt-in, not part of scripts/test.sh.
#   scripts/fuzz.sh [SECONDS_EACH]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
if ! command -v clang >/dev/null || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
out=build-fuzz
mkdir -p "$out"
flags=(-g -O1 -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Ibase -Ilayout -Iwire -Iconfig -Ilog -Idataplane $(pkg-config --cflags libisal libdpdk))
core=(config/*.c wire/*.c layout/*.c)
clang "${flags[@]}" tests/fuzz/fuzz_config.c "${core[@]}" -o "$out/fuzz_config" $(pkg-config --libs libisal)
clang "${flags[@]}" tests/fuzz/fuzz_log.c log/*.c layout/*.c -o "$out/fuzz_log" \
  $(pkg-config --libs libisal) -lpthread
# The pipeline library's files: dataplane/ less the DPDK-facing process.
pipeline=(dataplane/weir_pipeline.c dataplane/weir_pipeline_init.c dataplane/weir_match.c dataplane/weir_seq.c dataplane/weir_restore*.c
          dataplane/weir_reorder.c dataplane/weir_rules.c log/*.c)
clang "${flags[@]}" $(pkg-config --cflags libhs) tests/fuzz/fuzz_packet.c "${core[@]}" "${pipeline[@]}" \
  -o "$out/fuzz_packet" $(pkg-config --libs libhs libisal) -lstdc++ -lm -lpthread
# Seeds: real frames of both framings and every malformation weir-gen makes,
# so the fuzzer starts past the checksums and into the decoders.
if [ -x build/tools/weir-gen ] && [ ! -e "$out/corpus-fuzz_packet/.seeded" ]; then
  mkdir -p "$out/corpus-fuzz_packet" "$out/corpus-fuzz_config"
  build/tools/weir-gen pcap --out "$out/seed-mold.pcap" --manifest /dev/null --messages 400 --sessions 3 \
    --malformed-rate 0.3 --filtered-rate 0.1 --vlan-rate 0.2 --ipv6-rate 0.2 --heartbeat-every 5 --end-session \
    --loss 0.05 --reorder 0.05 >/dev/null
  build/tools/weir-gen pcap --out "$out/seed-frame.pcap" --manifest /dev/null --messages 400 --framing weir \
    --frame-topics 2 --udp-port 27000 --malformed-rate 0.3 --end-session >/dev/null
  /usr/bin/python3 - "$out" <<'PY'
import struct, sys
out = sys.argv[1]
n = 0
for name in ("seed-mold.pcap", "seed-frame.pcap"):
    data = open(f"{out}/{name}", "rb").read()
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        open(f"{out}/corpus-fuzz_packet/seed{n:05d}", "wb").write(data[off + 16:off + 16 + incl])
        off += 16 + incl
        n += 1
PY
  cp pmd-config/*.conf "$out/corpus-fuzz_config/"
  touch "$out/corpus-fuzz_packet/.seeded"
fi
for f in fuzz_config fuzz_packet fuzz_log; do
  mkdir -p "$out/corpus-$f"
  echo "== $f for ${secs}s"
  "$out/$f" -max_total_time="$secs" -max_len=2048 "$out/corpus-$f" 2>&1 | tail -3
done
