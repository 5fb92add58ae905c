#!/usr/bin/python3
"""Whole-appliance benchmark: weir against dpdk-testpmd rxonly and a kernel
recvmmsg receiver, on the same generated traffic, device and core.

Every case replays one capture from memory (net_pcap infinite_rx=1) into
  weir      weir-dataplane (full pipeline) with weir-control draining to the log
  testpmd   dpdk-testpmd --forward-mode=rxonly, its forwarding core on the same lcore
and sends its UDP payloads over loopback (sendmmsg, the other core) to
  kernel    perf/kernel_udp recv (recvmmsg batch 64, pinned, 256 MiB SO_RCVBUF)

The capture closes every session at its end, so each pass starts the
sessions again (weir counts session_restarts) and its events are new ones,
not duplicates: the pipeline does its whole work on every pass.

Rates on a shared 2-core VM are noisy, so the report is ratios from one run,
and cost per packet on the receiving core:
  testpmd  its forwarding core polls flat out: ns/packet = 1e9 / pps
  weir     (busy_ns - backpressure_wait_ns) / rx_packets of the worker, i.e.
           its own work, not the time weir-control made it wait; its
           capacity is 1e9 / that.  Delivered is what reached the log.
  kernel   the receiving thread's CPU time / packets (and, beside it, the
           softirq time of both cores, where the kernel does the UDP work)

Writes RESULT_DIR/appliance.json, appliance.md and appliance.png.
"""
import argparse
import atexit
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
ETH_IP_UDP = 14 + 20 + 8
MOLD_HDR = 20


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def eal_mem():
    """What scripts/hugepages.sh decided: hugepages with -m, or --no-huge."""
    try:
        text = open(os.path.join(BUILD, "eal-mem.env")).read()
        m = re.search(r"WEIR_EAL_MEM='([^']*)'", text)
        return m.group(1) if m else "-m 1024"
    except OSError:
        return "-m 1024"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cleanup_prefix(prefix):
    subprocess.run(f"rm -rf /var/run/dpdk/{prefix} /dev/hugepages/{prefix}map_* /dev/hugepages/weir.{prefix}.* "
                   f"/dev/shm/weir.{prefix}.*",
                   shell=True)


INGEST_CONF = """eal --file-prefix={prefix} {mem} --no-pci --log-level=lib.eal:warning
eal --vdev=net_pcap0,rx_pcap={pcap}
set corelist 1
port config all rxq 1
ring size 64M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log dir {log}
shutdown drain-timeout 60s
{extra}"""


def ingest(work, gen_args, extra=""):
    """A log of a weir-gen capture (gen_args: weir-gen pcap's options) through weir-dataplane and weir-control,
    one worker, backpressure: (the config, the log directory, the capture's manifest).  extra: more lines."""
    pcap, conf, logdir = (os.path.join(work, n) for n in ("feed.pcap", "ingest.conf", "log"))
    subprocess.run([os.path.join(BUILD, "tools/weir-gen"), "pcap", "--out", pcap, "--manifest", pcap + ".json",
                    *gen_args], check=True, stdout=subprocess.DEVNULL)
    prefix = f"perf-ingest-{os.getpid()}"
    short = f"/tmp/wi{os.getpid()}.pcap"  # net_pcap's arguments: 63 characters at most
    os.symlink(pcap, short)
    with open(conf, "w") as f:
        f.write(INGEST_CONF.format(prefix=prefix, mem=eal_mem(), pcap=short, log=logdir, extra=extra))
    try:
        dp = subprocess.Popen([os.path.join(BUILD, "dataplane/weir-dataplane"), "-f", conf, "--stop-when-idle", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        cp = subprocess.Popen([os.path.join(BUILD, "control/weir-control"), "-f", conf, "--exit-when-done"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if dp.wait(timeout=600) != 0 or cp.wait(timeout=120) != 0:
            raise SystemExit("perf: the log could not be made (weir-dataplane or weir-control failed)")
    finally:
        os.unlink(short)
        cleanup_prefix(prefix)
    return conf, logdir, pcap + ".json"


def testpmd_rates(cmd, prefix, seconds, field):
    """dpdk-testpmd (cmd, its --stats-period=1 on) for seconds, then SIGINT: each report's FIELD-pps after the
    first (start-up), in packets a second."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    time.sleep(seconds + 3)
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    cleanup_prefix(prefix)
    pps = [int(x) for x in re.findall(field + r"-pps:\s+(\d+)", out)]
    steady = [x for x in pps[1:] if x > 0] or pps
    if not steady:
        raise RuntimeError("testpmd reported no rate:\n" + out[-2000:])
    return steady


class Case:
    def __init__(self, name, per_packet, payload, sources=1, rules=0, workers=1, policy="backpressure",
                 retention="", line_loss=None, allow=0, udp_checksum="verify"):
        self.name, self.per_packet, self.payload = name, per_packet, payload
        self.sources, self.rules, self.workers, self.policy = sources, rules, workers, policy
        self.retention = retention  # a "log retention ..." line, or none
        self.line_loss = line_loss  # "RA,RB": the feed on an A and a B line (two groups), each with that loss
        self.allow = allow  # an address allowlist of this many networks (the feed's among them)
        self.udp_checksum = udp_checksum  # "set udp-checksum": verify (net_pcap sets no flags) or trust

    @property
    def frame_bytes(self):
        return ETH_IP_UDP + MOLD_HDR + self.per_packet * (2 + self.payload)

    def traffic_key(self):
        return (self.per_packet, self.payload, self.sources, self.line_loss or "-")


def make_capture(case, out, packets):
    key = "pp%d-p%d-s%d-l%s" % case.traffic_key()
    lines = ["--lines", "2", "--line-loss", case.line_loss] if case.line_loss else []
    pcap = os.path.join(out, f"traffic-{key}.pcap")
    if not os.path.exists(pcap):
        subprocess.run([os.path.join(BUILD, "tools/weir-gen"), "pcap", "--out", pcap,
                        "--manifest", pcap + ".json", "--seed", "7", "--sessions", str(case.sources),
                        "--messages", str(packets * case.per_packet), "--per-packet", str(case.per_packet),
                        "--payload", str(case.payload), "--end-session"] + lines, check=True,
                       stdout=subprocess.DEVNULL)
    # DPDK 22.11 hands secondaries only 63 characters of a vdev's arguments
    # (weir refuses longer ones): the capture gets a short link.
    short_dir = f"/tmp/wp{os.getpid()}"  # two rx_pcap= and infinite_rx=1 must fit 63 characters
    if not os.path.isdir(short_dir):
        os.makedirs(short_dir)
        atexit.register(shutil.rmtree, short_dir, True)
    short = os.path.join(short_dir, str(len(os.listdir(short_dir))))
    os.symlink(pcap, short)
    return short


def make_rules(n, out):
    """Rules shaped like an operator's: weir-gen's (perf/bench_match uses the same)."""
    path = os.path.join(out, f"rules-{n}.txt")
    subprocess.run([os.path.join(BUILD, "tools/weir-gen"), "rules", "--count", str(n), "--out", path], check=True)
    return path


def make_allow(n, out):
    """n networks, one of them weir-gen's sender's (198.18.0.0/24), from a file as an operator keeps it."""
    path = os.path.join(out, f"allow-{n}.txt")
    with open(path, "w") as f:
        for i in range(n - 1):
            f.write(f"10.{i // 250}.{i % 250}.0/24\n")
        f.write("198.18.0.0/24\n")
    return path


def vdev(pcap, queues):
    return "--vdev=net_pcap0," + ",".join([f"rx_pcap={pcap}"] * queues) + ",infinite_rx=1"


# More EAL options for weir-dataplane (perf/ab.py's --eal: "--force-max-simd-bitwidth=512" for the
# AVX-512 checksum path), from the environment so that ab.py can hand them to a base's copy of this
# script too (which ignores them).
EAL_EXTRA = os.environ.get("WEIR_PERF_EAL", "")


def lcore_args(workers):
    # 2 workers on a 2-core machine: the main lcore shares cpu 0 with a worker.
    return "" if workers == 1 else "--lcores=2@0,0@0,1@1 --main-lcore=2"


# ---------------------------------------------------------------- testpmd
def run_testpmd(case, pcap, seconds, mbufs):
    prefix = f"perf-tp-{os.getpid()}"
    cores = ["-l", "0,1"] if case.workers == 1 else lcore_args(2).split()
    cmd = (["dpdk-testpmd"] + cores + [f"--file-prefix={prefix}", "--no-pci", vdev(pcap, case.workers),
           "--log-level=lib.eal:warning"] + eal_mem().split() +
           ["--", "--forward-mode=rxonly", "--stats-period=1", f"--total-num-mbufs={mbufs}",
            f"--nb-cores={case.workers}", f"--rxq={case.workers}", f"--txq={case.workers}", "--burst=32",
            "--rxd=1024", "--txd=1024"])
    steady = testpmd_rates(cmd, prefix, seconds, "Rx")
    mpps = statistics.median(steady) / 1e6
    # per forwarding core, as weir's is per worker core
    return {"mpps": mpps, "mevents": mpps * case.per_packet, "ns_per_packet": case.workers * 1000.0 / mpps,
            "samples": len(steady)}


# ---------------------------------------------------------------- weir
LOG_DIR = None  # --log-dir: where the runs' logs go (default OUT/log)
RING_SIZE = "64M"  # --ring-size: each worker's record ring


def weir_env(case, pcap, out, policy):
    prefix = f"perf-weir-{os.getpid()}"
    logdir = os.path.join(LOG_DIR or out, "log")
    subprocess.run(["rm", "-rf", logdir])
    retention = case.retention
    if LOG_DIR and LOG_DIR.startswith("/dev/shm") and not retention:
        retention = "log retention size 1G"  # memory, not disk: a 5 s run at 10 Mpps writes ~4 GB
    rules = f"rules {make_rules(case.rules, out)}" if case.rules else ""

    env = dict(os.environ, WEIR_PREFIX=prefix, WEIR_EAL_MEM=eal_mem(), WEIR_VDEV=vdev(pcap, case.workers),
               WEIR_CORES="1" if case.workers == 1 else "0,1", WEIR_RXQ=str(case.workers),
               WEIR_POLICY=policy, WEIR_RING_SIZE=RING_SIZE, WEIR_LOG_DIR=logdir,
               WEIR_SOURCES=str(max(4096, case.sources * 2)),
               WEIR_RULES_LINE=rules, WEIR_RETENTION_LINE=retention,
               WEIR_EAL_EXTRA=" ".join(filter(None, [lcore_args(case.workers), EAL_EXTRA])),
               WEIR_METRICS=f"127.0.0.1:{free_port()}",
               WEIR_FEED_A="feed itch line a port 0 group 239.1.1.1 udp-port 26400" if case.line_loss else "",
               WEIR_FEED_B="feed itch line b port 0 group 239.1.1.2 udp-port 26400" if case.line_loss else "",
               WEIR_DECODER_OPTS=f"allow @{make_allow(case.allow, out)}" if case.allow else "",
               WEIR_UDP_CHECKSUM=case.udp_checksum)
    return env


def stat_json(conf, env):
    r = subprocess.run([os.path.join(BUILD, "tools/weir-stat"), "-f", conf, "--json", "--count", "1",
                        "--interval", "0.01"], env=env, capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("weir-stat gave nothing: " + r.stderr[-1000:])


def scrape(env):
    url = f"http://{env['WEIR_METRICS']}/metrics"
    return urllib.request.urlopen(url, timeout=5).read().decode()


def metric_sum(text, name):
    """A metric's value summed over its labels (0 when absent)."""
    return sum(float(m.group(1)) for m in re.finditer(r"^" + name + r"(?:\{[^}]*\})? (\S+)$", text, re.M))


def buckets(text, name):
    """Cumulative buckets of one histogram, summed over workers: {le: count}."""
    out = {}
    for m in re.finditer(name + r'_bucket\{[^}]*le="([^"]+)"\} (\d+)', text):
        le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
        out[le] = out.get(le, 0) + int(m.group(2))
    return out


def quantiles(before, after, qs=(0.5, 0.99, 0.999)):
    """Upper bounds (µs) of the buckets that hold each quantile of the window."""
    les = sorted(after)
    cum = [after[le] - before.get(le, 0) for le in les]
    total = cum[-1] if cum else 0
    res = {}
    for q in qs:
        want = q * total
        res[f"p{q * 100:g}"] = next((le * 1e6 for le, c in zip(les, cum) if c >= want and total), None)
    return res


def run_weir(case, pcap, out, seconds, policy="backpressure"):
    conf = os.path.join(ROOT, "perf/conf/appliance-pcap.conf")
    env = weir_env(case, pcap, out, policy)
    cleanup_prefix(env["WEIR_PREFIX"])
    dp = subprocess.Popen([os.path.join(BUILD, "dataplane/weir-dataplane"), "-f", conf,
                           "--stats-json", os.path.join(out, "dataplane.json")], env=env,
                          stdout=open(os.path.join(out, "dataplane.log"), "w"), stderr=subprocess.STDOUT)
    cp = None
    try:
        deadline = time.time() + 60
        while True:
            if dp.poll() is not None:
                raise RuntimeError("weir-dataplane exited: see " + os.path.join(out, "dataplane.log"))
            try:
                stat_json(conf, env)
                break
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        cp = subprocess.Popen([os.path.join(BUILD, "control/weir-control"), "-f", conf, "--exit-when-done",
                               "--summary-interval", "0", "--stats-json", os.path.join(out, "control.json")],
                              env=env, stdout=open(os.path.join(out, "control.log"), "w"),
                              stderr=subprocess.STDOUT)
        time.sleep(2)  # warm-up: the control plane attached, caches and the log file hot
        m0, s0, t0 = scrape(env), stat_json(conf, env), time.time()
        time.sleep(seconds)
        m1, s1, t1 = scrape(env), stat_json(conf, env), time.time()
    finally:
        dp.send_signal(signal.SIGINT)
        try:
            dp.wait(timeout=60)
            if cp:
                cp.wait(timeout=60)
        except subprocess.TimeoutExpired:
            dp.kill()
            if cp:
                cp.kill()
        cleanup_prefix(env["WEIR_PREFIX"])
        # Gigabytes a run: kept, a full benchmark filled this machine's disk.
        subprocess.run(["rm", "-rf", env["WEIR_LOG_DIR"]])
    final = json.load(open(os.path.join(out, "dataplane.json")))
    a, b = s0["counters"]["total"], s1["counters"]["total"]
    d = {k: b[k] - a[k] for k in b if isinstance(b[k], int)}
    secs = t1 - t0
    work_ns = d["busy_ns"] - d["backpressure_wait_ns"]
    # per worker core: the workers' own ns over the packets they took between them
    ns_pkt = work_ns / d["rx_packets"] if d["rx_packets"] else float("nan")
    res = {
        "rx_mpps": d["rx_packets"] / secs / 1e6,
        "delivered_mevents": d["event_records"] / secs / 1e6,
        "ns_per_packet": ns_pkt,  # per worker core
        "capacity_mpps": case.workers * 1000.0 / ns_pkt,
        "capacity_mevents": case.workers * 1000.0 / ns_pkt * case.per_packet,
        "busy_share_waiting": d["backpressure_wait_ns"] / d["busy_ns"] if d["busy_ns"] else 0,
        "ring_full_packets": d["ring_full_packets"],
        "ring_full_share": d["ring_full_packets"] / d["rx_packets"] if d["rx_packets"] else 0,
        "duplicates": d["seq_duplicates"],
        "arbitrated": d.get("seq_arbitrated", 0),
        "session_restarts": d["session_restarts"],
        # what retention deleted in the window, and the topic's disk use at its end
        "retention_deleted_segments": metric_sum(m1, "weir_log_retention_deleted_segments_total")
        - metric_sum(m0, "weir_log_retention_deleted_segments_total"),
        "log_disk_bytes": metric_sum(m1, "weir_log_disk_bytes"),
        "rule_matches": d["rule_matches"],
        # datagrams whose UDP checksum nobody checked (set udp-checksum trust; net_pcap checks none)
        "udp_checksum_unverified": d.get("udp_checksum_unverified", 0),
        # events the burst scan spared their own Hyperscan call
        "rule_scans_skipped_share": (d.get("rule_scans_skipped", 0) / d["event_records"]
                                     if d["event_records"] else 0),
        "identity_holds": final.get("identity_holds", False),
        "commit_latency_us": quantiles(buckets(m0, "weir_commit_latency_seconds"),
                                       buckets(m1, "weir_commit_latency_seconds")),
        "durable_latency_us": quantiles(buckets(m0, "weir_durable_latency_seconds"),
                                        buckets(m1, "weir_durable_latency_seconds")),
        "dataplane_exit": dp.returncode,
        "control_exit": cp.returncode if cp else None,
    }
    if res["dataplane_exit"] != 0 or res["control_exit"] != 0 or not res["identity_holds"]:
        raise RuntimeError(f"weir run failed: dataplane exit {res['dataplane_exit']}, control exit "
                           f"{res['control_exit']}, identity {res['identity_holds']} (see {out}/*.log)")
    return res


# ---------------------------------------------------------------- kernel
def softirq_ns():
    """Softirq time of every cpu, ns (USER_HZ ticks)."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for line in open("/proc/stat"):
        if re.match(r"cpu\d", line):
            total += int(line.split()[7])
    return total * 1e9 / hz


def udp_rcvbuf_errors():
    lines = [ln.split() for ln in open("/proc/net/snmp") if ln.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def run_kernel(case, pcap, seconds):
    port = 26400
    kbin = os.path.join(BUILD, "perf/kernel_udp")
    rx = subprocess.Popen([kbin, "recv", "--port", str(port), "--cpu", "1", "--seconds", str(seconds)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.3)
    e0, q0 = udp_rcvbuf_errors(), softirq_ns()
    tx = subprocess.run([kbin, "send", "--to", f"127.0.0.1:{port}", "--pcap", pcap, "--cpu", "0",
                         "--seconds", str(seconds + 1.5)], capture_output=True, text=True, timeout=seconds + 30)
    q1, e1 = softirq_ns(), udp_rcvbuf_errors()
    r = json.loads(rx.communicate(timeout=30)[0])
    sent = json.loads(tx.stdout)
    secs = r["seconds"] or 1
    ns = r["cpu_ns"] / r["packets"] if r["packets"] else float("nan")
    return {"mpps": r["packets"] / secs / 1e6, "mevents": r["messages"] / secs / 1e6, "ns_per_packet": ns,
            "ns_per_packet_with_softirq": (r["cpu_ns"] + (q1 - q0) * secs / (seconds + 1.5)) / r["packets"]
            if r["packets"] else float("nan"),
            "sent": sent["sent"], "rcvbuf_errors": e1 - e0, "packets_per_call": r["packets"] / max(r["calls"], 1)}


# ---------------------------------------------------------------- report
def table(results):
    rows = ["| case | frame | testpmd Mpps | weir capacity Mpps (M events/s) | weir delivered M events/s | "
            "weir ns/pkt | testpmd ns/pkt | kernel ns/pkt (thread / +softirq) | weir/testpmd | kernel/weir cost | "
            "ring-full | commit p50/p99/p99.9 µs |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        w, t, k = r["weir"], r.get("testpmd"), r.get("kernel")
        lat = w["commit_latency_us"]
        rows.append("| {} | {} B | {} | {:.2f} ({:.2f}) | {:.2f} | {:.1f} | {} | {} | {} | {} | {} | {} |".format(
            r["case"], r["frame_bytes"], f"{t['mpps']:.2f}" if t else "-", w["capacity_mpps"],
            w["capacity_mevents"], w["delivered_mevents"], w["ns_per_packet"],
            f"{t['ns_per_packet']:.1f}" if t else "-",
            f"{k['ns_per_packet']:.0f} / {k['ns_per_packet_with_softirq']:.0f}" if k else "-",
            f"{r['ratio_weir_testpmd']:.2f}x" if t else "-",
            f"{r['ratio_kernel_weir']:.0f}x" if k else "-", w["ring_full_packets"],
            "/".join("-" if lat[q] is None else f"{lat[q]:.0f}" for q in ("p50", "p99", "p99.9"))))
    return "\n".join(rows)


def chart(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("appliance: no matplotlib (apt-get install python3-matplotlib): no chart")
        return
    names = [r["case"] for r in results]
    fig, ax = plt.subplots(1, 2, figsize=(13, 4.8))
    x = range(len(names))
    wd = 0.27
    ax[0].bar([i - wd for i in x], [r["testpmd"]["mpps"] if r.get("testpmd") else 0 for r in results], wd,
              label="testpmd rxonly")
    ax[0].bar(list(x), [r["weir"]["capacity_mpps"] for r in results], wd, label="weir worker capacity")
    ax[0].bar([i + wd for i in x], [r["kernel"]["mpps"] if r.get("kernel") else 0 for r in results], wd,
              label="kernel recvmmsg (sender-bound)")
    ax[0].set_ylabel("Mpps (one receiving core)")
    ax[0].set_xticks(list(x), names, rotation=30, ha="right", fontsize=8)
    ax[0].legend(fontsize=8)
    ax[1].bar([i - wd for i in x], [r["testpmd"]["ns_per_packet"] if r.get("testpmd") else 0 for r in results],
              wd, label="testpmd rxonly")
    ax[1].bar(list(x), [r["weir"]["ns_per_packet"] for r in results], wd, label="weir (full pipeline)")
    ax[1].bar([i + wd for i in x], [r["kernel"]["ns_per_packet"] if r.get("kernel") else 0 for r in results],
              wd, label="kernel receiver thread")
    ax[1].set_yscale("log")
    ax[1].set_ylabel("ns of CPU per packet (log)")
    ax[1].set_xticks(list(x), names, rotation=30, ha="right", fontsize=8)
    ax[1].legend(fontsize=8)
    fig.suptitle("weir vs dpdk-testpmd rxonly vs kernel recvmmsg (net_pcap infinite_rx, same core)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


CASES = {
    "small-1msg": Case("small-1msg", 1, 8),
    "small-8msg": Case("small-8msg", 8, 8),
    "512B-1msg": Case("512B-1msg", 1, 512 - ETH_IP_UDP - MOLD_HDR - 2),
    "512B-8msg": Case("512B-8msg", 8, (512 - ETH_IP_UDP - MOLD_HDR) // 8 - 2),
    "small-1msg-100rules": Case("small-1msg-100rules", 1, 8, rules=100),
    "small-8msg-100rules": Case("small-8msg-100rules", 8, 8, rules=100),
    "small-1msg-1000rules": Case("small-1msg-1000rules", 1, 8, rules=1000),
    "small-1msg-1ksources": Case("small-1msg-1ksources", 1, 8, sources=1024),
    "small-1msg-2workers": Case("small-1msg-2workers", 1, 8, workers=2),
    # Does the control plane keep up with the dataplane's full rate?  With
    # drop, the worker never waits: what the log cannot take is ring-full.
    "small-1msg-drop": Case("small-1msg-drop", 1, 8, policy="drop"),
    # Retention deleting 256 MiB segments all along (the log grows ~100 MB/s):
    # against small-1msg, what it costs ingest.
    "small-1msg-retention": Case("small-1msg-retention", 1, 8, retention="log retention size 600M"),
    # A/B arbitration: a feed on an A and a B line (two groups, one port).
    # line-a: line B lost whole, every packet a first copy; ab: both lines
    # whole, every other packet a second copy.  The second copy's cost is
    # 2 x ab - line-a (per packet), reported against line-a's.
    "small-1msg-line-a": Case("small-1msg-line-a", 1, 8, line_loss="0,1"),
    "small-1msg-ab": Case("small-1msg-ab", 1, 8, line_loss="0,0"),
    # An address allowlist of 1,000 networks (rte_lpm): against small-1msg,
    # what checking every packet's sender costs.
    "small-1msg-allow1000": Case("small-1msg-allow1000", 1, 8, allow=1000),
    # The UDP checksum unchecked, as on a NIC that checks it (RTE_MBUF_F_RX_L4_CKSUM_GOOD, which net_pcap
    # never sets): against small-1msg, what the software sum costs a 72-byte packet.
    "small-1msg-trust": Case("small-1msg-trust", 1, 8, udp_checksum="trust"),
}
DEFAULT = ["small-1msg", "small-8msg", "512B-1msg", "512B-8msg", "small-1msg-100rules", "small-8msg-100rules",
           "small-1msg-1000rules", "small-1msg-1ksources", "small-1msg-2workers", "small-1msg-drop"]


def irq_names():
    """IRQ number -> its name in /proc/interrupts (the device or handler)."""
    names = {}
    for line in open("/proc/interrupts").read().splitlines()[1:]:
        head, _, rest = line.partition(":")
        if head.strip().isdigit():
            names[head.strip()] = " ".join(w for w in rest.split() if not w.isdigit())
    return names


def isolate_receiving_core():
    """Keeps the measuring core for the receiver: this script and what it
    starts run on cpu 0 (DPDK and kernel_udp pin their own threads), and
    interrupts are steered to cpu 0 where the kernel lets us (root).  Before
    this, block-I/O completions and Python ran on the worker's core, inside
    its busy time (the disk's IRQ on cpu 1 cost the worker ~7%).  Says which
    interrupts it could not move (managed or per-cpu ones) and returns how to
    undo the steering, how many moved and those left."""
    os.sched_setaffinity(0, {0})
    saved, left, names = {}, [], irq_names()
    for path in sorted(glob.glob("/proc/irq/*/smp_affinity_list")):
        irq = path.split("/")[3]
        try:
            with open(path) as f:
                old = f.read().strip()
            if old == "0":
                continue
            with open(path, "w") as f:
                f.write("0")
            saved[path] = old
        except OSError as e:
            left.append(f"{irq} ({names.get(irq, '?')}): {e.strerror}")
    if left:
        log("appliance: interrupts left where they are (the kernel would not move them): " + "; ".join(left))

    def restore():
        for path, old in saved.items():
            try:
                with open(path, "w") as f:
                    f.write(old)
            except OSError:
                pass
    return restore, len(saved), left


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out/perf"))
    ap.add_argument("--seconds", type=float, default=5, help="measurement window per run (default 5)")
    ap.add_argument("--packets", type=int, default=4096,
                    help="packets in one pass of a capture (default 4096: small enough to stay in the "
                    "last-level cache, as a NIC DMAs into it; at 32768 every copy missed to DRAM, for both)")
    ap.add_argument("--cases", default=",".join(DEFAULT), help="comma list of: " + ", ".join(CASES))
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each receiver per case, taking turns; each reported by its median run "
                    "(default 1; 3 for figures to quote: this VM moves by 30%% between runs)")
    ap.add_argument("--no-baselines", action="store_true", help="weir only (no testpmd, no kernel)")
    ap.add_argument("--log-dir", help="where the logs go (default OUT); under /dev/shm no disk interrupt reaches "
                    "the worker's core (the disk's IRQ may be managed: the kernel will not move it), and a 1G "
                    "retention bounds the memory")
    ap.add_argument("--no-isolate", action="store_true", help="leave interrupts and this script's cpu alone")
    ap.add_argument("--ring-size", default="64M",
                    help="each worker's record ring (default %(default)s): one that fits the last-level cache "
                    "is written and read there, one past it in memory")
    a = ap.parse_args()
    unknown = [n for n in a.cases.split(",") if n not in CASES]
    if unknown:
        ap.error("unknown case %s; the cases are: %s" % (", ".join(unknown), ", ".join(CASES)))
    if a.repeat < 1:
        ap.error("--repeat takes 1 or more")
    os.makedirs(a.out, exist_ok=True)
    global LOG_DIR, RING_SIZE
    LOG_DIR, RING_SIZE = a.log_dir, a.ring_size
    restore, steered, left = (lambda: None, 0, []) if a.no_isolate else isolate_receiving_core()
    try:
        run_cases(a, steered, left)
    finally:
        restore()


def median_run(rs):
    """The run with the median cost per packet, with every run's figure beside it."""
    ordered = sorted(rs, key=lambda x: x["ns_per_packet"])
    m = dict(ordered[(len(ordered) - 1) // 2])
    if len(rs) > 1:
        for key in ("ns_per_packet", "delivered_mevents", "ring_full_packets"):
            if key in m:
                m["runs_" + key] = [x[key] for x in rs]
    return m


def second_copy_cost(results):
    """With line-a and ab both run: what a B copy costs, against a first copy."""
    by = {r["case"]: r for r in results}
    if "small-1msg-line-a" in by and "small-1msg-ab" in by and "second_copy" not in by["small-1msg-ab"]:
        first = by["small-1msg-line-a"]["weir"]["ns_per_packet"]
        second = 2 * by["small-1msg-ab"]["weir"]["ns_per_packet"] - first
        by["small-1msg-ab"]["second_copy"] = {"first_ns": first, "second_ns": second, "ratio": second / first}
        log(f"appliance: a second copy costs {second:.1f} ns against a first copy's {first:.1f} ns: "
            f"{second / first:.2f}")


def run_cases(a, steered, left):
    mbufs = max(65536, a.packets * 2 + 8192)
    results = []
    for name in a.cases.split(","):
        case = CASES[name]
        pcap = make_capture(case, a.out, a.packets)
        r = {"case": name, "frame_bytes": case.frame_bytes, "messages_per_packet": case.per_packet,
             "sources": case.sources, "rules": case.rules, "workers": case.workers}
        baseline = not a.no_baselines and case.rules == 0 and case.sources == 1 and case.policy != "drop"
        runs = {"weir": [], "testpmd": [], "kernel": []}
        # Receivers take turns, so a slow spell of this shared VM falls on
        # all of them; each is reported by its median run.
        for rep in range(a.repeat):
            tag = f" ({rep + 1}/{a.repeat})" if a.repeat > 1 else ""
            log(f"appliance: {name}: weir{tag}")
            runs["weir"].append(run_weir(case, pcap, a.out, a.seconds, case.policy))
            if baseline:
                log(f"appliance: {name}: testpmd rxonly{tag}")
                runs["testpmd"].append(run_testpmd(case, pcap, a.seconds, mbufs))
            if baseline and case.workers == 1:
                log(f"appliance: {name}: kernel recvmmsg{tag}")
                runs["kernel"].append(run_kernel(case, pcap, a.seconds))
        for who, rs in runs.items():
            if rs:
                r[who] = median_run(rs)
        if "testpmd" in r:
            r["ratio_weir_testpmd"] = r["weir"]["capacity_mpps"] / r["testpmd"]["mpps"]
        if "kernel" in r:
            r["ratio_kernel_weir"] = r["kernel"]["ns_per_packet"] / r["weir"]["ns_per_packet"]
        results.append(r)
        second_copy_cost(results)
        log(json.dumps(r))
    doc = {"machine": os.uname().nodename, "cpus": os.cpu_count(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ",
           time.gmtime()), "seconds": a.seconds, "repeat": a.repeat, "packets_per_pass": a.packets, "irqs_steered_to_cpu0": steered,
           "irqs_left": left,
           "results": results}
    json.dump(doc, open(os.path.join(a.out, "appliance.json"), "w"), indent=1)
    md = table(results)
    open(os.path.join(a.out, "appliance.md"), "w").write(md + "\n")
    chart(results, os.path.join(a.out, "appliance.png"))
    print(md)
    print(f"\nwritten: {a.out}/appliance.json, appliance.md, appliance.png")


if __name__ == "__main__":
    main()
