#!/usr/bin/env python3
"""weir-export against a bare librdkafka producer of the same records with the same settings
(perf/bare_producer.c), on a 3-broker cluster of its own (scripts/kafka.sh), taking turns; medians.

A log of --records events is made once (weir-gen, weir-dataplane, weir-control).  Each turn ships it to a
fresh topic: weir-export from the log (--exit-when-caught-up), then the bare producer from the same
records loaded into memory.  Figures: records/s (weir-export from "shipping" to caught up, the bare
producer from its first produce to its last commit) and CPU microseconds a record (the process's own
user+system time, librdkafka's threads included).

  /usr/bin/python3 perf/export.py [--records N] [--rounds N] [--batch N] [--brokers LIST]
"""
import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "perf"))
from appliance import free_port, ingest  # noqa: E402

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def make_log(work, records):
    conf, logdir, _ = ingest(work, ["--messages", str(records), "--sessions", "16", "--per-packet", "1-8",
                                    "--end-session"], "log fsync interval 100ms\n")
    return conf, logdir


def records_file(logdir, path):
    """The records weir-export would ship (key, value, its six headers), in bare_producer's format."""
    out = subprocess.run([os.path.join(BUILD, "tools/weir-read"), "--format", "jsonl", logdir], check=True,
                         capture_output=True, text=True).stdout
    n = 0
    with open(path, "wb") as f:
        for line in out.splitlines():
            r = json.loads(line)
            if r["topic"] != "itch" or r["kind"] != "event":
                continue
            key, value = r["source"].encode(), bytes.fromhex(r["payload_hex"])
            heads = [("weir.kind", r["kind"]), ("weir.seq", str(r["seq"])), ("weir.flags", ",".join(r["flags"])),
                     ("weir.rules", ",".join(map(str, r["rules"]))), ("weir.rx_ns", str(r["rx_ns"])),
                     ("weir.offset", str(r["offset"]))]
            f.write(struct.pack("<H", len(key)) + key + struct.pack("<I", len(value)) + value + bytes([len(heads)]))
            for name, v in heads:
                f.write(bytes([len(name)]) + name.encode() + bytes([len(v)]) + v.encode())
            n += 1
    return n


def run_export(conf, work, brokers, topic, batch, n, binary):
    c = os.path.join(work, f"export-{topic}.conf")
    text = open(conf).read() + (f"export kafka brokers {brokers}\nexport kafka topic itch {topic}\n"
                                f"export kafka batch {batch}\nexport kafka id {topic}\n"
                                f"export metrics listen 127.0.0.1:{free_port()}\n")
    open(c, "w").write(text)
    t0 = time.time()
    p = subprocess.Popen([binary, "-f", c, "--exit-when-caught-up", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    shipping = None
    out = []
    for line in p.stdout:
        out.append(line)
        if shipping is None and "weir-export: shipping" in line:
            shipping = time.time()
    _, status, ru = os.wait4(p.pid, 0)
    end = time.time()
    if status != 0 or shipping is None:
        raise SystemExit("perf/export: weir-export failed:\n" + "".join(out[-20:]))
    secs = end - shipping - 1.0  # less the caught-up wait
    return {"records_per_s": n / secs, "cpu_us_per_record": (ru.ru_utime + ru.ru_stime) * 1e6 / n,
            "seconds": secs, "wall_with_start": end - t0}


JEMALLOC = "/lib/x86_64-linux-gnu/libjemalloc.so.2"


def run_bare(brokers, topic, path, batch, jemalloc=False):
    """jemalloc: the same with weir-export's allocator preloaded (its allocator is weir's choice, so the
    baseline is given both ways)."""
    env = dict(os.environ, LD_PRELOAD=JEMALLOC) if jemalloc else None
    r = subprocess.run([os.path.join(BUILD, "perf/bare_producer"), brokers, topic, path, str(batch)],
                       capture_output=True, text=True, timeout=600, env=env)
    if r.returncode != 0:
        raise SystemExit("perf/export: bare_producer failed: " + r.stderr[-2000:])
    d = json.loads(r.stdout.strip().splitlines()[-1])
    return {"records_per_s": d["records"] / d["seconds"], "cpu_us_per_record": d["cpu_seconds"] * 1e6 / d["records"],
            "seconds": d["seconds"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=500000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=50000, help="records a transaction, both sides (default 50000)")
    ap.add_argument("--brokers", help="an existing cluster (default: 3 nodes of our own)")
    ap.add_argument("--base-export", help="another weir-export binary (a change's base, e.g. from "
                    "out/perf-ab/trees/REV/build) to run in the same turns")
    ap.add_argument("--out", default=os.path.join(ROOT, "out/perf"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="weir-perf-export-")
    kdir = os.path.join(work, "kafka")
    try:
        brokers = a.brokers
        if not brokers:
            port = free_port()
            r = subprocess.run([os.path.join(ROOT, "scripts/kafka.sh"), "start", kdir, "3", str(port)],
                               capture_output=True, text=True, check=True)
            brokers = r.stdout.strip().splitlines()[-1]
        log(f"perf/export: brokers {brokers}; making a log of {a.records} events")
        conf, logdir = make_log(work, a.records)
        recs = os.path.join(work, "records.bin")
        n = records_file(logdir, recs)
        runs = {"weir-export": [], "bare": [], "bare+jemalloc": []}
        if a.base_export:
            runs["base weir-export"] = []
        for rnd in range(a.rounds):
            if a.base_export:
                log(f"perf/export: round {rnd + 1}/{a.rounds}: base weir-export")
                runs["base weir-export"].append(run_export(conf, work, brokers, f"perf.base.{rnd}", a.batch, n,
                                                           a.base_export))
            log(f"perf/export: round {rnd + 1}/{a.rounds}: weir-export")
            runs["weir-export"].append(run_export(conf, work, brokers, f"perf.weir.{rnd}", a.batch, n,
                                                  os.path.join(BUILD, "export/weir-export")))
            log(f"perf/export: round {rnd + 1}/{a.rounds}: bare producer")
            runs["bare"].append(run_bare(brokers, f"perf.bare.{rnd}", recs, a.batch))
            if os.path.exists(JEMALLOC):
                runs["bare+jemalloc"].append(run_bare(brokers, f"perf.barej.{rnd}", recs, a.batch, jemalloc=True))
        med = {who: {k: statistics.median(r[k] for r in rs) for k in ("records_per_s", "cpu_us_per_record")}
               for who, rs in runs.items() if rs}
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        doc = {"cpu": cpu, "records": n, "batch": a.batch, "rounds": a.rounds, "runs": runs, "medians": med,
               "ratio_records_per_s": med["weir-export"]["records_per_s"] / med["bare"]["records_per_s"],
               "ratio_cpu_per_record": med["weir-export"]["cpu_us_per_record"] / med["bare"]["cpu_us_per_record"]}
        json.dump(doc, open(os.path.join(a.out, "export.json"), "w"), indent=1)
        print(f"perf/export on {cpu}: {n} records, transactions of {a.batch}, medians of {a.rounds}")
        for who, m in med.items():
            print(f"  {who:17s} {m['records_per_s'] / 1e3:9.1f} k records/s  "
                  f"{m['cpu_us_per_record']:6.2f} us CPU a record")
        for bare in ("bare", "bare+jemalloc"):
            if bare in med:
                w, o = med["weir-export"], med[bare]
                print(f"  weir-export / {bare}: {w['records_per_s'] / o['records_per_s']:.2f}x the records/s, "
                      f"{w['cpu_us_per_record'] / o['cpu_us_per_record']:.2f}x the CPU a record")
    finally:
        if not a.brokers:
            subprocess.run([os.path.join(ROOT, "scripts/kafka.sh"), "stop", kdir], capture_output=True)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
