"""Runs the real weir binaries on DPDK virtual devices for the integration tests.

Every deployment gets its own DPDK --file-prefix, and its hugepage files,
runtime directory and /dev/shm regions are removed when the test ends, so
tests can run back to back and after a crash.
"""
import atexit
import contextlib
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("WEIR_BUILD", os.path.join(ROOT, "build"))
DATAPLANE = os.path.join(BUILD, "dataplane", "weir-dataplane")
CONTROL = os.path.join(BUILD, "control", "weir-control")
GEN = os.path.join(BUILD, "tools", "weir-gen")
READ = os.path.join(BUILD, "tools", "weir-read")
CHECK = os.path.join(BUILD, "tools", "weir-check")
STAT = os.path.join(BUILD, "tools", "weir-stat")
REPLAY = os.path.join(BUILD, "replay", "weir-replay")
KAFKA_SH = os.path.join(ROOT, "scripts", "kafka.sh")
sys.path.insert(0, os.path.join(BUILD, "tools"))
import weirlog  # noqa: E402  (tools/weirlog.py, beside libweirlog.so in the build tree)


def checksum_paths():
    """[(EAL's --force-max-simd-bitwidth, the checksum path weir takes within it, whether this CPU runs it)],
    from the kernel's CPU flags, not weir's own choice (wire/weir_csum_paths.c)."""
    with open("/proc/cpuinfo") as f:
        flags = f.read().split("\nflags", 1)[1].split("\n", 1)[0].split()
    return [(64, "scalar", True), (256, "avx2", "avx2" in flags),
            (512, "avx512", "avx512f" in flags and "avx512bw" in flags)]


def eal_mem():
    """The EAL memory arguments scripts/hugepages.sh chose: hugepages or --no-huge."""
    env = os.environ.get("WEIR_EAL_MEM")
    if env:
        return env
    try:
        with open(os.path.join(BUILD, "eal-mem.env")) as f:
            return f.read().split("=", 1)[1].strip().strip("'")
    except OSError:
        return "-m 512"


def threads_of(status_text):
    """One dict a thread from /proc/.../task/*/status files' text, read one after another"""
    blocks = re.split(r"(?m)^(?=Name:\t)", status_text)
    return [dict(line.split(":\t", 1) for line in b.splitlines() if ":\t" in line) for b in blocks if b.strip()]


def process_threads(pid):
    """threads_of every thread of pid, from this host's /proc"""
    text = ""
    for t in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(t) as f:
                text += f.read()
        except OSError:
            pass  # ended meanwhile
    return threads_of(text)


def assert_no_privilege(threads, uid, gid, what, bounding=True):
    """Every thread runs as uid:gid (its groups gid's alone) with no capability and no new privileges; with
    bounding, none can be had back by exec either."""
    assert len(threads) >= 3, f"{what}: {len(threads)} threads"  # EAL's own threads too
    for st in threads:
        name = f"{what} {st.get('Name')}/{st.get('Pid')}"
        assert st["Uid"].split() == [str(uid)] * 4, f"{name}: Uid {st['Uid']}"
        assert st["Gid"].split() == [str(gid)] * 4, f"{name}: Gid {st['Gid']}"
        assert st["Groups"].strip() in ("", str(gid)), f"{name}: Groups {st['Groups']}"
        for cap in ("CapEff", "CapPrm", "CapAmb") + (("CapBnd",) if bounding else ()):
            assert int(st[cap], 16) == 0, f"{name}: {cap} {st[cap]}"
        assert st["NoNewPrivs"] == "1", f"{name}: NoNewPrivs {st['NoNewPrivs']}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_base():
    """A port p with p, p+1, p+10, p+11, p+20, p+21 free (three nodes' client and controller ports)."""
    for _ in range(100):
        base = random.randrange(30000, 45000, 100)
        try:
            for off in (0, 1, 10, 11, 20, 21):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + off))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports for kafka")


def fill_fs(path):
    """A file at path that takes every block its file system has left (a disk full on purpose)."""
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def remove_dpdk_files(prefix):
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    for path in (glob.glob(f"/dev/hugepages/{prefix}map_*") + glob.glob(f"/dev/hugepages/weir.{prefix}.*")
                 + glob.glob(f"/dev/shm/weir.{prefix}.*")):
        try:
            os.unlink(path)
        except OSError:
            pass


SHORT_DIR = f"/tmp/wt{os.getpid()}"
atexit.register(shutil.rmtree, SHORT_DIR, True)


def short_link(path):
    """A short name for path: DPDK hands secondaries only 63 characters of a vdev's arguments, and weir
    refuses longer ones."""
    os.makedirs(SHORT_DIR, exist_ok=True)
    link = os.path.join(SHORT_DIR, str(len(os.listdir(SHORT_DIR))))
    os.symlink(path, link)
    return link


def shorten_vdev_paths(eal):
    """Captures named in vdev arguments (rx_pcap=, tx_pcap=) by short links."""
    return re.sub(r"\b(rx_pcap|tx_pcap)=([^,\s]+)", lambda m: f"{m.group(1)}={short_link(m.group(2))}", eal)


def memif_socket(tag):
    """A fresh net_memif socket path: weir-dataplane serves it, weir-gen --dpdk connects (short: DPDK hands
    a secondary only 63 characters of a vdev's arguments)."""
    sock = f"/tmp/{tag}{os.getpid()}.sock"
    if os.path.exists(sock):
        os.unlink(sock)
    return sock


def memif_server(sock):
    return f"--vdev=net_memif0,role=server,id=0,socket={sock}"


def gen_over_memif(sock, prefix, *args):
    """weir-gen send's command line over a net_memif client of sock, with its own EAL file prefix."""
    return [GEN, "send", "--dpdk", f"--file-prefix={prefix} -l 0 --no-pci {eal_mem()} --log-level=lib.eal:warning "
            f"--vdev=net_memif0,role=client,id=0,socket={sock}", *args]


def send_over_memif_then_stop(d, others, sock, prefix, manifest, *args, settle=1.0, watch=None, timeout=120):
    """weir-gen over net_memif into d's dataplane, stopped in the one safe order (stop_memif_sender): its work
    is done once it has sent, served and lingered (its manifest is there).  Returns its output."""
    return stop_memif_sender(
        d, others, gen_over_memif(sock, prefix, *args, "--manifest", manifest, "--hold", str(timeout)), "weir-gen",
        prefix, lambda out: os.path.exists(manifest), settle=settle, watch=watch, timeout=timeout)


def stop_memif_sender(d, others, cmd, prog, prefix, done, settle=1.0, watch=None, timeout=120):
    """A DPDK sender (cmd, with --hold) over net_memif into d's dataplane, stopped in the one safe order: once
    done(its output so far) says its work is done (watch() runs every 0.1 s until then, and through the
    settle), the dataplane stops first while the sender holds its port up without polling it, and the sender
    goes when its link is down.
    DPDK 22.11's memif PMD unmaps the rings from its interrupt thread when the peer leaves, under a core that
    may be mid-burst on them: the side still polling when the other goes can crash (SIGSEGV seen here, one
    peer leaving in 16). The side told of the other's leaving can also crash in that interrupt thread, after
    the rings are gone (a double free in the PMD's teardown: "EAL: Error: Invalid memory", then SIGSEGV in
    rte_intr_instance_free; seen once in about 50 such stops, in the sender). Here that side is the sender,
    its work done and checked: such a death is reported, not counted against weir. Returns its output."""
    with tempfile.TemporaryFile("w+") as log:
        sender = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)

        def output():
            log.flush()
            log.seek(0)
            return log.read()
        try:
            deadline = time.time() + timeout
            while not done(output()) and sender.poll() is None and time.time() < deadline:
                if watch:
                    watch()
                time.sleep(0.1)
            assert done(output()), f"{prog} did not finish its work in time:\n" + output()
            settled = time.time() + settle  # the last gaps reach their deadline
            while time.time() < settled:
                if watch:
                    watch()
                time.sleep(min(0.1, max(0.0, settled - time.time())))
            assert sender.poll() is None, f"{prog} did not hold its port up:\n" + output()
            d.stop(*others)
            sender.wait(timeout=30)
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait()
            remove_dpdk_files(prefix)
        out = output()
    teardown = (sender.returncode < 0 and f"{prog}: holding port 0" in out
                and re.search(rf"{prog}: fatal signal \d+ \(\w+\) .* in thread eal-intr-thread;", out))
    if teardown:
        print(f"{prog} died in DPDK's memif teardown, after its work and the dataplane's clean stop:\n" + out)
    assert (sender.returncode == 0 or teardown) and "still up" not in out, out
    return out


def gen_pcap(out_dir, name="traffic", **flags):
    """weir-gen pcap; flags become --flag value (True: bare flag). Returns (pcap, manifest)."""
    pcap = os.path.join(out_dir, name + ".pcap")
    manifest = os.path.join(out_dir, name + ".json")
    cmd = [GEN, "pcap", "--out", pcap, "--manifest", manifest]
    for k, v in flags.items():
        k = "--" + k.replace("_", "-")
        cmd += [k] if v is True else [k, str(v)]
    subprocess.run(cmd, check=True, capture_output=True)
    return pcap, manifest


def persisted(log_dir):
    """Records in the log right now, every topic (weir-read --verify's counts; it reports a torn tail)."""
    out = subprocess.run([READ, "--verify", log_dir], capture_output=True, text=True).stdout
    return sum(int(line.split(" records")[0].rsplit(" ", 1)[1]) for line in out.splitlines()
               if ": " in line and " records" in line)


def committed(log_dir, topic):
    """One past the topic's last committed record (0 before it has any)."""
    if not os.path.isdir(os.path.join(log_dir, topic)):
        return 0
    with weirlog.Reader(log_dir, topic) as r:
        c = r.committed
        return 0 if c >= 1 << 63 else c


def exposition_problems(text):
    """What is wrong with a Prometheus text exposition: promtool's verdict, and what promtool lets pass
    (it parses leniently): each family's samples right under its own HELP and TYPE, one block a family."""
    problems = []
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    if lint.returncode != 0:
        problems.append("promtool: " + (lint.stdout + lint.stderr).strip())
    family, kind, seen = None, None, set()
    suffixes = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name in seen:
                problems.append(f"line {n}: family {name} a second time")
            family = name
            seen.add(name)
        elif line and not line.startswith("#"):
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name != family and not (family and name in [family + x for x in suffixes.get(kind, ())]):
                problems.append(f"line {n}: sample {name} under the header of {family}")
    return problems


def console_records(bootstrap, topic):
    """Every committed record of topic as Kafka's own console consumer (Java, read_committed) prints it:
    partition, offset, headers (weir's, text), key and value."""
    r = subprocess.run([KAFKA_SH, "consume", bootstrap, topic], capture_output=True, text=True, timeout=300)
    out = []
    for line in r.stdout.splitlines():
        if not line.startswith("Partition:"):
            continue
        part, off, headers, key, value = line.split("\t", 4)
        h = dict(x.split(":", 1) for x in re.split(r",(?=weir\.)", headers)) if headers != "NO_HEADERS" else {}
        out.append({"partition": int(part.split(":")[1]), "offset": int(off.split(":")[1]), "headers": h,
                    "key": key, "value": value})
    return out


def kafka_console_agrees(log_dir, bootstrap, kafka_topics, log_topic="itch"):
    """Kafka's own consumer (not weir's, not librdkafka): each record of the log's topic once in the Kafka
    topics it went to, with its source, kind, number and bytes, and each partition's records in log order."""
    got = [dict(rec, partition=(t, rec["partition"])) for t in kafka_topics for rec in console_records(bootstrap, t)]
    got = [rec for rec in got if rec["headers"].get("weir.kind") != "log_hole"]  # kafka_log_holes checks those
    with weirlog.Reader(log_dir, log_topic) as r:
        entries = list(r)
    by_offset = {}
    for rec in got:
        by_offset.setdefault(int(rec["headers"]["weir.offset"]), []).append(rec)
    twice = sorted(o for o, v in by_offset.items() if len(v) > 1)
    missing = sorted({e.offset for e in entries} - set(by_offset))
    assert not twice and not missing and len(by_offset) == len(entries), (twice[:5], missing[:5], len(got))
    for e in entries:
        rec = by_offset[e.offset][0]
        assert (rec["key"], rec["headers"]["weir.kind"], int(rec["headers"]["weir.seq"])) == (e.source, e.kind, e.seq)
        assert e.kind != "event" or rec["value"] == e.payload.decode(), (e.offset, rec["value"], e.payload)
    for p in {rec["partition"] for rec in got}:
        order = [int(rec["headers"]["weir.offset"]) for rec in sorted(got, key=lambda x: x["offset"])
                 if rec["partition"] == p]
        assert order == sorted(order), f"partition {p}: not in log order"
    return len(got)


def kafka_log_holes(bootstrap, kafka_topics):
    """{(topic, partition): [(first, last, cause), ...]} of weir-export's log_hole records as Kafka's own
    console consumer reads them, each partition in its order, and {(topic, partition): [weir.offset, ...]}
    of everything else, with each hole's place among them as ("hole", first, last)."""
    holes, order = {}, {}
    for t in kafka_topics:
        for rec in sorted(console_records(bootstrap, t), key=lambda x: (x["partition"], x["offset"])):
            h, p = rec["headers"], (t, rec["partition"])
            if h.get("weir.kind") == "log_hole":
                hole = (int(h["weir.hole.first"]), int(h["weir.hole.last"]), h["weir.hole.cause"])
                holes.setdefault(p, []).append(hole)
                order.setdefault(p, []).append(("hole",) + hole[:2])
            else:
                order.setdefault(p, []).append(int(h["weir.offset"]))
    return holes, order


def http_get(url, timeout=5):
    """(status, body) of a GET; (0, "") while nothing listens.  Every /metrics page a test reads is
    checked as an exposition on the way (any config shape the suite runs)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            status, body = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError):
        return 0, ""
    if status == 200 and url.split("?", 1)[0].endswith("/metrics"):
        bad = exposition_problems(body)
        assert not bad, f"{url}: not a clean exposition: {bad[:5]}"
    return status, body


def load_json(path):
    with open(path) as f:
        return json.load(f)


class Deployment:
    """One pmd-config file plus the processes started on it."""

    def __init__(self, tmp_path, name, eal, body, no_huge=None):
        self.dir = str(tmp_path)
        self.prefix = f"wt-{name}-{os.getpid()}"
        self.log_dir = os.path.join(self.dir, "log")
        mem = eal_mem() if no_huge is None else ("--no-huge -m 512" if no_huge else "-m 512")
        self.config = os.path.join(self.dir, name + ".conf")
        with open(self.config, "w") as f:
            f.write(f"eal --file-prefix={self.prefix} {mem} --no-pci --log-level=lib.eal:warning\n")
            f.write(f"eal {shorten_vdev_paths(eal)}\n")
            self.metrics_port = free_port()
            f.write(f"metrics listen 127.0.0.1:{self.metrics_port}\n")
            f.write(body)
            f.write(f"\nlog dir {self.log_dir}\n")
        self.procs = []
        self.dataplane_stats = os.path.join(self.dir, "dataplane.json")
        remove_dpdk_files(self.prefix)

    def start_dataplane(self, *args, env=None):
        self.dp_out = open(os.path.join(self.dir, "dataplane.log"), "w")
        self.dp = subprocess.Popen([DATAPLANE, "-f", self.config, "--stats-json", self.dataplane_stats,
                                    "--stats-interval", "0", *args],
                                   stdout=self.dp_out, stderr=subprocess.STDOUT, env=env)
        self.procs.append(self.dp)
        return self.dp

    def start_control(self, *args, tag="control", as_user=None):
        """as_user: started as that user (not root), finding root's EAL runtime files as weir's do"""
        out = open(os.path.join(self.dir, tag + ".log"), "w")
        who = {} if as_user is None else {"user": as_user, "group": as_user, "extra_groups": [],
                                          "env": dict(os.environ, XDG_RUNTIME_DIR="/var/run")}
        p = subprocess.Popen([CONTROL, "-f", self.config, "--summary-interval", "0", *args],
                             stdout=out, stderr=subprocess.STDOUT, **who)
        self.procs.append(p)
        return p

    def wait_running(self, timeout=30):
        """Until the dataplane says it runs (its ports started, rings made)."""
        deadline = time.time() + timeout
        path = os.path.join(self.dir, "dataplane.log")
        while time.time() < deadline:
            if self.dp.poll() is not None:
                raise AssertionError("weir-dataplane exited early:\n" + self.output("dataplane"))
            with open(path) as f:
                if "weir-dataplane: running" in f.read():
                    return
            time.sleep(0.05)
        raise AssertionError("weir-dataplane did not start:\n" + self.output("dataplane"))

    def stats_now(self):
        """The running dataplane's counters, summed over workers (weir-stat --json)."""
        r = subprocess.run([STAT, "-f", self.config, "--json", "--count", "1", "--interval", "0.01"],
                           capture_output=True, text=True, timeout=30)
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                return json.loads(line)["counters"]["total"]
        raise AssertionError("weir-stat: " + r.stderr)

    def output(self, tag):
        with open(os.path.join(self.dir, tag + ".log")) as f:
            return f.read()

    def stop(self, *others, timeout=30):
        """SIGINT to the dataplane (stop RX, drain, exit), then every other process must end cleanly."""
        self.dp.send_signal(signal.SIGINT)
        rc = self.dp.wait(timeout=timeout)
        assert rc == 0, f"weir-dataplane exited {rc}:\n" + self.output("dataplane")
        for p in others:
            assert p.wait(timeout=timeout) == 0, f"exit {p.returncode}"

    def check(self, manifest, with_stats=True):
        """weir-check of the log (and the dataplane's counters) against a manifest; returns its report."""
        cmd = [CHECK, "--manifest", manifest, "--log", self.log_dir]
        if with_stats:
            cmd += ["--dataplane-stats", self.dataplane_stats]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr + self.output("dataplane")
        return r.stdout

    def log_records(self, kind=None):
        out = subprocess.run([READ, "--format", "jsonl", self.log_dir], check=True, capture_output=True,
                             text=True).stdout
        recs = [json.loads(line) for line in out.splitlines()]
        return [r for r in recs if kind is None or r["kind"] == kind]

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        remove_dpdk_files(self.prefix)


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


@contextlib.contextmanager
def veth_pair(v6):
    """veth pair: one end here for DPDK (no address), the other in a netns as the sender's host:
    198.18.7.1/30, or fd00:7::1/64 with v6; weir's address (198.18.7.2, fd00:7::2) is reached through a
    permanent neighbour entry, since weir does no ARP or neighbour discovery."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a netns and veth pair")
    tag = f"{'6' if v6 else ''}{os.getpid() % 100000}"
    ns, here, there = f"weirns{tag}", f"wv{tag}a", f"wv{tag}b"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", here, "type", "veth", "peer", "name", there)
        sh("ip", "link", "set", there, "netns", ns)
        sh("sysctl", "-q", "-w", f"net.ipv6.conf.{here}.disable_ipv6=1")
        sh("ip", "link", "set", here, "up")
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"net.ipv6.conf.{there}.disable_ipv6={0 if v6 else 1}")
        if v6:
            sh("ip", "-n", ns, "-6", "addr", "add", "fd00:7::1/64", "dev", there, "nodad")
        else:
            sh("ip", "-n", ns, "addr", "add", "198.18.7.1/30", "dev", there)
        sh("ip", "-n", ns, "link", "set", there, "up")
        # A veth hands on locally made packets with the UDP checksum left for a
        # NIC to fill, and net_af_packet does not say so: weir would (rightly)
        # find them wrong.  Off, the kernel writes real checksums, as a wire has.
        sh("ip", "netns", "exec", ns, "ethtool", "-K", there, "tx", "off")
        mac = open(f"/sys/class/net/{here}/address").read().strip()
        sh("ip", "-n", ns, *(["-6"] if v6 else []), "neigh", "add", "fd00:7::2" if v6 else "198.18.7.2", "lladdr",
           mac, "dev", there, "nud", "permanent")
        yield ns, here
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
