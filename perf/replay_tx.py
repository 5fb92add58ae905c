#!/usr/bin/python3
"""weir-replay send out of a DPDK port, against dpdk-testpmd --forward-mode=txonly on the same device and core.

A weir-gen capture of 1-event packets (8-byte messages: 72-byte frames) goes through weir into a log; then,
alternating, testpmd txonly sends 72-byte frames out of net_null0 from lcore 1 for --seconds, and
weir-replay send --speed 0 --max-messages 1 replays the whole log out of net_null0 from lcore 1 (reading
the log from the page cache, building each frame, bursts of 32).  Prints each run and the medians, and the
ratio weir-replay / testpmd in packets per second; with --base-replay BIN, that weir-replay (a change's base,
e.g. out/perf-ab/trees/REV/build/replay/weir-replay) too, in the same turns, and head / base.  Not a test:
run it by hand (perf/README.md)."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "perf"))
from appliance import cleanup_prefix, eal_mem, ingest, testpmd_rates  # noqa: E402

PORT_CONF = """eal --file-prefix={prefix} {mem} --no-pci --log-level=lib.eal:warning{simd}
eal --vdev=net_null0
set corelist 1
set burst 32
port config all txd 1024
"""


def make_log(tmp, messages):
    """A log of one-event packets of 8-byte messages over 8 sessions, in one segment."""
    _, log, _ = ingest(tmp, ["--messages", str(messages), "--sessions", "8", "--per-packet", "1", "--payload", "8"],
                       "log segment-size 256M\nlog fsync none\n")
    return log


def run_testpmd(seconds):
    prefix = f"perf-tx-{os.getpid()}"
    cmd = (["dpdk-testpmd", "-l", "0,1", f"--file-prefix={prefix}", "--no-pci", "--vdev=net_null0",
            "--log-level=lib.eal:warning"] + eal_mem().split() +
           ["--", "--forward-mode=txonly", "--txpkts=72", "--stats-period=1", "--burst=32", "--txd=1024",
            "--nb-cores=1"])
    return statistics.median(testpmd_rates(cmd, prefix, seconds, "Tx")) / 1e6


def run_replay(tmp, log, binary=os.path.join(BUILD, "replay/weir-replay"), simd_bits=0):
    prefix = f"perf-rp-{os.getpid()}"
    conf = os.path.join(tmp, "port.conf")
    with open(conf, "w") as f:
        simd = f" --force-max-simd-bitwidth={simd_bits}" if simd_bits else ""
        f.write(PORT_CONF.format(prefix=prefix, mem=eal_mem(), simd=simd))
    try:
        r = subprocess.run([binary, "send", "--quiet", "--topic", "itch",
                            "--port-config", conf, "--speed", "0", "--max-messages", "1", log],
                           capture_output=True, text=True, timeout=600)
    finally:
        cleanup_prefix(prefix)
    m = re.search(r"sent (\d+) packets.* in ([\d.]+) s", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError("weir-replay failed:\n" + r.stdout + r.stderr)
    return int(m.group(1)) / float(m.group(2)) / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=5_000_000, help="events in the log (1 a packet)")
    ap.add_argument("--seconds", type=float, default=5, help="each testpmd run")
    ap.add_argument("--turns", type=int, default=3, help="alternating runs of each")
    ap.add_argument("--base-replay", help="another weir-replay binary, run in the same turns")
    ap.add_argument("--simd-bits", type=int, default=0,
                    help="EAL's --force-max-simd-bitwidth for both (the checksum's path: 512 for AVX-512)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="weir-replay-tx-")
    try:
        log = make_log(tmp, a.messages)
        print(f"replay_tx: a log of {a.messages} one-event packets (72-byte frames) in {log}", flush=True)
        runs = {"testpmd": [], "replay": [], "base": []}
        for turn in range(a.turns):
            runs["testpmd"].append(run_testpmd(a.seconds))
            if a.base_replay:
                runs["base"].append(run_replay(tmp, log, a.base_replay, a.simd_bits))
            runs["replay"].append(run_replay(tmp, log, simd_bits=a.simd_bits))
            base = f", base {runs['base'][-1]:.2f} Mpps" if a.base_replay else ""
            print(f"turn {turn + 1}: testpmd txonly {runs['testpmd'][-1]:.2f} Mpps, "
                  f"weir-replay {runs['replay'][-1]:.2f} Mpps{base}", flush=True)
        t, w = statistics.median(runs["testpmd"]), statistics.median(runs["replay"])
        print(f"median: testpmd txonly {t:.2f} Mpps ({1e3 / t:.1f} ns/packet), weir-replay {w:.2f} Mpps "
              f"({1e3 / w:.1f} ns/packet): {w / t:.2f}x")
        if a.base_replay:
            b = statistics.median(runs["base"])
            print(f"median: base {b:.2f} Mpps ({1e3 / b:.1f} ns/packet): head/base {w / b:.2f}x the packets/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
