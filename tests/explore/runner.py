"""Carries out one schedule on the real binaries: writes the feed, starts weir-dataplane (net_pcap) and
weir-control, applies the live faults as the log grows, restarts what died, lets it finish, then applies
the damage.  Every wait is bounded: a hang is a finding too.  What it saw goes to the oracle."""
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from weir_harness import (BUILD, Deployment, GEN, KAFKA_SH, free_base, free_port,  # noqa: E402
                          shorten_vdev_paths, weirlog)

import pcap_edit  # noqa: E402

# Timeouts well above any stall of a worker on a loaded two-core machine (a capture read while the log
# fsyncs): on a virtual device the copy that would fill a gap is a few packets away, and a gap that
# times out on the wall clock would be a finding of this machine's scheduling, not of weir.  Gaps
# still open at the dataplane's stop are declared lost then; the timing rules have their unit tests.
LINES = """feed itch line a port 0 group 239.1.1.1 udp-port 26400
feed itch line b port 0 group 239.1.1.2 udp-port 26400
feed itch window 5s
"""
BODY = """set corelist {cores}
port config all rxq {workers}
{rss}ring size {ring}
ring full-policy backpressure
decoder {decoder} udp-port 26400 topic itch
{frame_topics}{lines}sequence gap-timeout 30s
sequence reorder-window {reorder} 5s
log fsync {fsync}
log segment-size {segment}
shutdown drain-timeout 4s
"""
RUN_SECONDS = 150  # one schedule, live part; past it: a hang
EXPORT = os.path.join(BUILD, "export", "weir-export")


def export_topics(schedule):
    """The log topics a schedule's weir-export ships, each with its Kafka topics (events, LOSS records):
    itch, the weir frames' topics, and a route rule's."""
    topics = ["itch"] + [f"t{t}" for t in range(1, schedule["feed"].get("frame_topics", 0) + 1)]
    if any(r["action"].startswith("route:") for r in schedule.get("rules", {}).get("rules", [])):
        topics.append("alerts")
    return [(t, f"x.{t}", f"x.{t}.loss") for t in topics]


WORKER_CPU = "1"  # the (second) worker's lcore in BODY's corelist: where a schedule's "load" runs


def catches_term(p, seconds=10):
    """Waits until process p has its SIGTERM handler (/proc's SigCgt) or has ended."""
    deadline = time.time() + seconds
    while p.poll() is None and time.time() < deadline:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                cgt = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return
        if cgt & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)


def merged_manifest(parts):
    """weir-gen's manifests of captures with sessions of their own as one: the sessions of all, and every
    count summed (the expected figures, each topic's events, packets, messages)."""
    def add(a, b):
        return {k: add(v, b[k]) if isinstance(v, dict) else v + b[k] for k, v in a.items()}
    m = dict(parts[0])
    for p in parts[1:]:
        m["sessions"] = m["sessions"] + p["sessions"]
        m["expected"] = add(m["expected"], p["expected"])
        m["topic_events"] = add(m["topic_events"], p["topic_events"])
        m["packets"] += p["packets"]
        m["messages"] += p["messages"]
    return m


class Finding(Exception):
    """A broken promise, said in one line."""


class Run:
    def __init__(self, schedule, workdir):
        self.s, self.dir = schedule, workdir
        self.rng = random.Random(schedule["seed"] ^ 0x5EED)
        self.workers = schedule.get("workers", 1)  # schedules from before two workers have none
        # stopped_early: the figures of dataplane runs stopped mid-feed (they declared their open gaps lost)
        self.seen = {"dp_runs": [], "second_controls": [], "committed_back": [], "notes": [], "stopped_early": [],
                     "captures": {}}  # a dataplane run's figures: the capture each of its RX queues took
        self.cp = None
        self.controls = 0
        self.last_committed = {}

    # -- set-up
    def write_feed(self):
        """The capture (feed.pcap, feed.json); with two workers one a worker (feed1.pcap the second's,
        its sessions numbered after the first's), and feed.json the two manifests as one."""
        self.pcap = os.path.join(self.dir, "feed.pcap")
        self.manifest = os.path.join(self.dir, "feed.json")
        self.pcaps = [self.pcap] + [os.path.join(self.dir, f"feed{q}.pcap") for q in range(1, self.workers)]
        parts = []
        for q, pcap in enumerate(self.pcaps):
            feed = dict(self.s["feed"])
            if self.workers > 1:
                feed.update(seed=feed["seed"] + q, first_session=q * feed["sessions"])
            parts.append(self.manifest if self.workers == 1 else os.path.join(self.dir, f"feed-q{q}.json"))
            cmd = [GEN, "pcap", "--out", pcap, "--manifest", parts[-1]]
            for k, v in feed.items():
                cmd += ["--" + k.replace("_", "-")] + ([] if v is True else [str(v)])
            for plant in self.s.get("rules", {}).get("plants", []):
                cmd += ["--plant", f"{plant['text']}:{plant['rate']}" + (":drop" if plant["drop"] else "")]
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        if self.workers > 1:
            with open(self.manifest, "w") as out:
                json.dump(merged_manifest([json.load(open(p)) for p in parts]), out)
        if self.s["edits"]:
            self.seen["notes"].append(f"edits dropped {pcap_edit.edit(self.pcap, self.s['edits'], self.rng)}")

    def deploy(self):
        c = self.s["config"]
        two = self.workers == 2  # net_pcap has no RSS: each rx_pcap a queue, each queue its worker's
        body = BODY.format(ring=c["ring"], fsync=c["fsync"], segment=c["segment"], reorder=c.get("reorder_window", 0),
                           lines=LINES if self.s["feed"].get("lines") else "", cores="0,1" if two else "1",
                           workers=self.workers, rss="port config all rss none\n" if two else "",
                           decoder="weirframe" if self.s["feed"].get("framing") == "weir" else "moldudp64",
                           frame_topics="".join(f"frame-topic {t} t{t}\n"
                                                for t in range(1, self.s["feed"].get("frame_topics", 0) + 1)))
        if self.s.get("rules"):
            self.rules = os.path.join(self.dir, "rules.txt")
            self.write_rules(self.rules)
            body += f"topic alerts\nrules {self.rules}\n"
        if self.s.get("export"):
            body += self.start_kafka()
        self.d = Deployment(self.dir, f"x{self.s['seed'] % 100000}", self.eal(list(range(self.workers))), body,
                            no_huge=self.s["mode"] == "nohuge")
        if any(f["what"] == "disk_full" for f in self.s["faults"]):
            self.log_on_tmpfs()

    def eal(self, order):
        """The port's vdev line: RX queue q takes capture order[q] (net_pcap: each rx_pcap a queue)."""
        eal = "--vdev=net_pcap0," + ",".join(f"rx_pcap={self.pcaps[q]}" for q in order)
        if self.workers == 2:  # the main lcore beside the first worker, on cpu 0: this machine has two
            eal += " --lcores=2@0,0@0,1@1 --main-lcore=2"
        if self.s.get("simd_bits"):  # the checksum's vector path (scenario.pick)
            eal += f" --force-max-simd-bitwidth={self.s['simd_bits']}"
        return eal

    def place_captures(self):
        """The captures each RX queue of the next dataplane takes (their names, by queue).  With swap_queues
        every other run takes them on the other queues: each worker's sources are the other's in the next
        run, as when an operator changes the RX queues or the RSS key between runs."""
        order = list(range(self.workers))
        if self.s.get("swap_queues") and len(self.seen["dp_runs"]) % 2 == 1:
            order.reverse()
        with open(self.d.config) as f:
            lines = f.read().splitlines(True)
        at = next(i for i, line in enumerate(lines) if line.startswith("eal --vdev=net_pcap0,"))
        lines[at] = f"eal {shorten_vdev_paths(self.eal(order))}\n"
        with open(self.d.config, "w") as f:
            f.writelines(lines)
        return [os.path.basename(self.pcaps[q]) for q in order]

    def start_kafka(self):
        """A one-broker Kafka (scripts/kafka.sh) for weir-export; its config lines."""
        self.kafka_dir = os.path.join(self.dir, "kafka")
        r = subprocess.run([KAFKA_SH, "start", self.kafka_dir, "1", str(free_base())], capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            raise Finding(f"(kafka.sh start failed: {r.stderr[-300:]})")
        self.seen["kafka"] = r.stdout.strip().splitlines()[-1]
        self.exports = 0
        topics = "".join(f"export kafka topic {t} {k} loss {loss}\n" for t, k, loss in export_topics(self.s))
        return (f"export kafka brokers {self.seen['kafka']}\n{topics}export kafka batch 2000\n"
                "export kafka commit-interval 50ms\n")

    def stop_kafka(self):
        if getattr(self, "kafka_dir", None):
            subprocess.run([KAFKA_SH, "stop", self.kafka_dir], capture_output=True, timeout=120)
            self.kafka_dir = None

    def start_export(self, *args):
        self.exports += 1
        out = open(os.path.join(self.dir, f"export{self.exports}.log"), "w")
        self.ex = subprocess.Popen([EXPORT, "-f", self.d.config, *args], stdout=out, stderr=subprocess.STDOUT)
        self.d.procs.append(self.ex)
        catches_term(self.ex)  # a SIGTERM before then would end it by default (-15), as any process
        return self.ex

    def kill_export(self, f):
        if self.ex.poll() is not None:  # it is never told to end before the run's end
            raise Finding(f"weir-export exited {self.ex.returncode} by itself")
        self.ex.send_signal(signal.SIGKILL)
        self.ex.wait()
        self.start_export()

    def kafka_down(self, f):
        """The only broker SIGKILLed, and started again on its data after f["seconds"]."""
        subprocess.run([KAFKA_SH, "kill", self.kafka_dir, "1"], check=True, timeout=30)
        time.sleep(f["seconds"])
        r = subprocess.run([KAFKA_SH, "restart", self.kafka_dir, "1"], capture_output=True, text=True, timeout=180)
        if r.returncode:  # what kafka.sh saw (a node's exit and its log's tail, or the wait's end) comes along
            raise Finding(f"(kafka did not come back: {r.stderr.strip()[-600:]})")

    def kafka_hung(self, f):
        """The only broker SIGSTOPped (its connections open, nothing answered) for f["seconds"], then let go."""
        subprocess.run([KAFKA_SH, "pause", self.kafka_dir, "1"], check=True, timeout=30)
        time.sleep(f["seconds"])
        subprocess.run([KAFKA_SH, "resume", self.kafka_dir, "1"], check=True, timeout=30)

    def finish_export(self):
        """The exporter of the live part stopped (SIGTERM: it must end cleanly), then one that ships the rest."""
        if self.ex.poll() is None:
            self.ex.send_signal(signal.SIGTERM)
        rc = self.wait_exit(self.ex, "weir-export after SIGTERM")
        if rc != 0:
            raise Finding(f"weir-export exited {rc} after SIGTERM")
        rc = self.wait_exit(self.start_export("--exit-when-caught-up", "2"), "weir-export catching up", timeout=240)
        if rc != 0:
            raise Finding(f"the last weir-export exited {rc}")

    def write_rules(self, path):
        """The schedule's rules as a rules file (docs/rules.md)."""
        with open(path, "w") as out:
            out.write("# the fault explorer's: id action flags [scope] /expression/\n")
            for r in self.s["rules"]["rules"]:
                scope = "".join(f" {k}={r[k]}" for k in ("decoder", "source", "topic") if r.get(k))
                out.write(f"{r['id']} {r['action']} {r['flags']}{scope} /{r['expr']}/\n")

    def log_on_tmpfs(self):
        """The log on a tmpfs of its own, so that it can be filled (remounted to what it holds) and freed."""
        self.fs = os.path.join(self.dir, "fs")
        os.makedirs(self.fs)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "weirexplore", self.fs], check=True)
        conf = open(self.d.config).read().replace(f"log dir {self.d.log_dir}", f"log dir {self.fs}/log")
        with open(self.d.config, "w") as out:
            out.write(conf)
        self.d.log_dir = os.path.join(self.fs, "log")

    # -- processes
    def start_dataplane(self):
        captures = self.place_captures()
        self.d.dataplane_stats = os.path.join(self.dir, f"dataplane{len(self.seen['dp_runs'])}.json")
        self.seen["dp_runs"].append(self.d.dataplane_stats)
        self.seen["captures"][self.d.dataplane_stats] = captures
        # the end of the feed; a worker waiting for room while weir-control is stopped is not idle
        # (the dataplane tells the two apart: regression control-stopped-longer-than-idle)
        self.dp = self.d.start_dataplane("--stop-when-idle", "4")
        self.d.wait_running(timeout=60)

    def start_control(self, batch=None, failpoint=None):
        """The first with the schedule's batch size, each restart with its own: a drain restarted with
        smaller polls than its predecessor's skips what that one left across several commits.
        failpoint: "NAME:N", where it kills itself (WEIR_FAILPOINT)."""
        c = self.s["config"]
        if batch is None:
            batch = c["batch_records"] if self.controls == 0 else c.get("restart_batch_records", c["batch_records"])
        self.controls += 1
        self.cp_tag = f"control{self.controls}"  # its own log (a refused second one may come after it)
        if failpoint:
            os.environ["WEIR_FAILPOINT"] = failpoint
        try:
            self.cp = self.d.start_control("--exit-when-done", "--batch-records", str(batch), tag=self.cp_tag)
        finally:
            os.environ.pop("WEIR_FAILPOINT", None)
        return self.cp

    def wait_exit(self, p, what, timeout=60):
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Finding(f"{what} did not exit within {timeout} s (a hang)")

    # -- progress
    def committed(self):
        """Records committed in every topic now; a topic's committed point must never go back."""
        total = 0
        for topic in sorted(os.listdir(self.d.log_dir)) if os.path.isdir(self.d.log_dir) else []:
            if not os.path.isfile(os.path.join(self.d.log_dir, topic, "committed")):
                continue
            try:
                with weirlog.Reader(self.d.log_dir, topic) as r:
                    c = r.committed
            except Exception:  # a topic being made, or the checkpoint being written: look again later
                continue
            c = 0 if c >= 1 << 63 else c
            if c < self.last_committed.get(topic, 0):
                self.seen["committed_back"].append(f"{topic}: {self.last_committed[topic]} -> {c}")
            self.last_committed[topic] = max(c, self.last_committed.get(topic, 0))
            total += c
        return total

    def wait_progress(self, share, deadline):
        want = share * self.s["feed"]["messages"] * self.workers
        while time.time() < deadline and self.dp.poll() is None and self.committed() < want:
            time.sleep(0.02)

    def segments(self):
        return len(glob.glob(os.path.join(self.d.log_dir, "itch", "*.log")))

    # -- live faults
    def kill_control(self, f):
        if self.cp.poll() is None:
            self.cp.send_signal(signal.SIGKILL)
            self.cp.wait()
        self.restart_control()

    def restart_control(self):
        """A new weir-control while the dataplane runs, or to drain what its dead rings hold (files in
        either mode)."""
        self.start_control()

    def kill_control_after_roll(self, f, deadline):
        """Killed right after a segment rolls (polled), while the restarted drain may still skip."""
        n = self.segments()
        while time.time() < deadline and self.dp.poll() is None and self.cp.poll() is None:
            if self.segments() > n:
                self.cp.send_signal(signal.SIGKILL)
                self.cp.wait()
                self.seen["notes"].append("killed weir-control right after a roll")
                break
            time.sleep(0.002)
        if self.cp.poll() is not None:
            self.restart_control()

    def failpoint(self, f):
        """weir-control replaced by one that kills itself at a named point, then by the next of the
        chain, each waited for (a point never reached is noted), then a plain one."""
        if self.cp.poll() is None:
            self.cp.send_signal(signal.SIGKILL)
            self.cp.wait()
        for fp in f["chain"]:
            p = self.start_control(batch=fp["batch"], failpoint=f"{fp['point']}:{fp['n']}")
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.seen["notes"].append(f"failpoint {fp} not reached in 20 s")
                break
            if "failpoint" not in self.d.output(self.cp_tag):
                self.seen["notes"].append(f"failpoint {fp}: weir-control ended otherwise ({p.returncode})")
                break
        if self.cp.poll() is not None:
            self.restart_control()

    def stop_control(self, f):
        self.cp.send_signal(signal.SIGSTOP)
        time.sleep(f["seconds"])
        self.cp.send_signal(signal.SIGCONT)

    def second_control(self, f):
        """Another weir-control on the same deployment (its own metrics port): it must be refused."""
        own = self.d.config
        text = re.sub(r"metrics listen 127\.0\.0\.1:\d+", f"metrics listen 127.0.0.1:{free_port()}", open(own).read())
        self.d.config = os.path.join(self.dir, "second.conf")
        with open(self.d.config, "w") as out:
            out.write(text)
        first = self.cp
        deadline = time.time() + 10  # by mistake beside one that drains: not racing one still starting
        while first.poll() is None and "weir-control: draining" not in self.d.output(self.cp_tag) \
                and time.time() < deadline:
            time.sleep(0.01)
        first_alive = first.poll() is None  # else the second is a restart, and may drain
        self.controls += 1
        tag = f"control{self.controls}"
        p = self.d.start_control("--exit-when-done", tag=tag)
        self.d.config = own
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            rc = None
        out = self.d.output(tag)
        self.seen["second_controls"].append({"rc": rc, "first_alive": first_alive and first.poll() is None,
                                             "named": f"(pid {first.pid})" in out, "drained": "draining" in out})

    def stop_dataplane(self, f):
        self.dp.send_signal(signal.SIGSTOP)
        time.sleep(f["seconds"])
        self.dp.send_signal(signal.SIGCONT)

    def disk_full(self, f):
        """The log's file system remounted so that only f["room"] bytes more fit; once it is full (or
        10 s passed) it stays so for f["seconds"], then has room again (a thread: the run goes on)."""
        st = os.statvfs(self.fs)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        subprocess.run(["mount", "-o", f"remount,size={(used + f['room']) // 4096 * 4096 + 4096}", self.fs],
                       check=True)

        def free_later():
            deadline = time.time() + 10
            while time.time() < deadline and os.statvfs(self.fs).f_bavail * 4096 >= 64 * 1024:
                time.sleep(0.01)
            self.seen["notes"].append(f"disk full after {used} + {f['room']} bytes: "
                                      f"{os.statvfs(self.fs).f_bavail * 4096} bytes left")
            time.sleep(f["seconds"])
            subprocess.run(["mount", "-o", "remount,size=512m", self.fs], check=True)

        self.freer = threading.Thread(target=free_later)
        self.freer.start()

    def reload_rules(self, f):
        """The same rules again, moved over the file and loaded by SIGHUP while events flow."""
        new = self.rules + ".new"
        self.write_rules(new)
        os.replace(new, self.rules)
        self.dp.send_signal(signal.SIGHUP)
        self.seen["notes"].append("rules reloaded (the same set) by SIGHUP")

    def kill_dataplane(self, f):
        """SIGKILL of the primary; what its rings held is drained (or stated) before the next run."""
        self.dp.send_signal(signal.SIGKILL)
        self.dp.wait()
        self.wait_exit(self.cp, "weir-control after the dataplane's death")
        self.restart_both(undrained=False)

    def stop_both(self, f):
        """weir-control killed (or hung: SIGSTOPped), then the dataplane stopped while nobody drains; a hung
        one, let go once the dataplane gave up on it, drains the rest and exits; both started again."""
        hung = f.get("control") == "hung"
        self.cp.send_signal(signal.SIGSTOP if hung else signal.SIGKILL)
        if not hung:
            self.cp.wait()
        self.dp.send_signal(signal.SIGINT)
        self.wait_exit(self.dp, "weir-dataplane stopped with no drain")
        self.seen["stopped_early"].append(self.d.dataplane_stats)
        if hung:
            self.cp.send_signal(signal.SIGCONT)
            self.wait_exit(self.cp, "a hung weir-control let go after the dataplane stopped")
        self.restart_both(undrained=not hung)

    def restart_both(self, undrained):
        """undrained: nobody drained the dead run's rings (a weir-control alone drains them first: the next
        dataplane waits for that)."""
        self.replayed = True
        if undrained:
            self.wait_exit(self.start_control(), "weir-control draining a dead run's rings")
        self.start_dataplane()
        self.start_control()

    # -- the run
    def live(self):
        load = self.start_load() if self.s.get("load") else None
        try:
            self.live_part()
        finally:
            if load:
                load.terminate()  # timeout passes it on to the loop
                load.wait(timeout=10)

    def start_load(self):
        """A busy loop pinned to the worker's core (set corelist 1), bounded by timeout."""
        return subprocess.Popen(["taskset", "-c", WORKER_CPU, "timeout", str(RUN_SECONDS + 60), "sh", "-c",
                                 "while :; do :; done"])

    def live_part(self):
        deadline = time.time() + RUN_SECONDS
        self.replayed = False
        self.start_dataplane()
        for f in [f for f in self.s["faults"] if f["at"] == 0]:  # before any drain (a drain outruns polls)
            getattr(self, f["what"])(f)
        self.start_control()
        faults = self.s["faults"] + self.s.get("export", {}).get("faults", [])
        if self.s.get("export"):
            self.start_export()
        if self.s.get("rules", {}).get("reload_at"):
            faults = faults + [{"what": "reload_rules", "at": self.s["rules"]["reload_at"]}]
        faults = sorted(faults, key=lambda f: f["at"])
        for f in [f for f in faults if 0 < f["at"] < 1.0]:
            self.wait_progress(f["at"], deadline)
            # the exporter ships on after the feed: its faults land whenever they come
            if self.dp.poll() is not None and f["what"] not in ("kill_export", "kafka_down", "kafka_hung"):
                self.seen["notes"].append(f"{f['what']} at {f['at']}: the feed was over first")
                continue
            if f["what"] == "kill_control_after_roll":
                self.kill_control_after_roll(f, min(deadline, time.time() + 15))
            else:
                getattr(self, f["what"])(f)
        self.seen["dp_rc"] = self.wait_exit(self.dp, "weir-dataplane", timeout=max(5, deadline - time.time()))
        if getattr(self, "freer", None):
            self.freer.join()
        self.seen["cp_rc"] = self.wait_exit(self.cp, "weir-control", timeout=60)
        last = self.d.output(self.cp_tag)
        if self.seen["cp_rc"] != 0 and self.seen["dp_rc"] == 0 and (
                "no weir info region" in last or "no live weir-dataplane" in last):
            self.seen["cp_rc"] = 0  # started as the dataplane ended (every ring drained): nothing left to do
        self.committed()
        if self.s.get("export"):
            self.finish_export()

    def run(self):
        try:
            self.write_feed()
            self.deploy()
            self.live()
        finally:
            if hasattr(self, "d"):
                self.d.close()
        return self.seen

    def close(self):
        """What outlives the checks: the log's tmpfs, the Kafka the checks read."""
        self.unmount()
        self.stop_kafka()

    def unmount(self):
        if getattr(self, "fs", None):
            subprocess.run(["umount", "-l", self.fs])
            self.fs = None
