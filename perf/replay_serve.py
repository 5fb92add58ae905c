#!/usr/bin/python3
"""weir-replay serve: re-requests of 100 events answered a second, from a log on the page cache.

A weir-gen capture (8 sessions, 1-event packets of 8-byte messages) goes through weir into a log
(perf/replay_tx.py's make_log); weir-replay serve listens on loopback, pinned to cpu 1, with no rate limit;
a client pinned to cpu 0 keeps --window requests outstanding, each for 100 events at a random place of a
random session, and counts whole answers for --seconds.  Prints requests answered a second, events a
second, and the server's CPU a request (its utime + stime over the run).  Not a test: run it by hand
(perf/README.md)."""
import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)
from replay_tx import BUILD, make_log  # noqa: E402

COUNT = 100


def request(session, first, count):
    return session.ljust(10, b" ") + first.to_bytes(8, "big") + count.to_bytes(2, "big")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sessions_of(log):
    """weir-gen's sessions and how many events each got, from its manifest beside the capture."""
    with open(os.path.join(os.path.dirname(log), "feed.pcap.json")) as f:
        return [(s["session"].encode(), s["messages"]) for s in json.load(f)["sessions"]]


def run(log, port, window, seconds, binary=os.path.join(BUILD, "replay/weir-replay")):
    srv = subprocess.Popen(["taskset", "-c", "1", binary, "serve", "--topic",
                            "itch", "--listen", f"127.0.0.1:{port}", "--rate", "1e9", "--burst", "1e9",
                            "--max-count", str(COUNT), log], stdout=subprocess.PIPE, text=True)
    try:
        assert "serving" in srv.stdout.readline()
        os.sched_setaffinity(0, {0})
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        c.connect(("127.0.0.1", port))
        c.settimeout(2)
        rng = random.Random(7)
        sess = sessions_of(log)
        outstanding = {}

        def ask():
            name, n = rng.choice(sess)
            first = rng.randint(1, max(1, n - COUNT - 1))
            c.send(request(name, first, COUNT))
            outstanding[(name, first)] = 0

        cpu0, t0 = cpu_seconds(srv.pid), time.monotonic()
        for _ in range(window):
            ask()
        answered = events = 0
        while time.monotonic() - t0 < seconds:
            data = c.recv(65535)
            key = (data[:10].rstrip(b" "), int.from_bytes(data[10:18], "big"))
            count = int.from_bytes(data[18:20], "big")
            first = next((k for k in outstanding if k[0] == key[0] and k[1] <= key[1] < k[1] + COUNT), None)
            if first is None:
                continue
            outstanding[first] += count
            events += count
            if outstanding[first] >= COUNT:
                del outstanding[first]
                answered += 1
                ask()
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(srv.pid) - cpu0
    finally:
        srv.send_signal(2)
        srv.communicate(timeout=20)
        os.sched_setaffinity(0, set(range(os.cpu_count())))
    return answered / elapsed, events / elapsed, cpu / max(answered, 1) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=2_000_000)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--window", type=int, default=16, help="requests outstanding")
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--against", help="another weir-replay (a base build): run alternating, print the ratio")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="weir-replay-serve-")
    try:
        log = make_log(tmp, a.messages)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        binaries = {"head": os.path.join(BUILD, "replay/weir-replay")}
        if a.against:
            binaries["base"] = a.against
        runs = {name: [] for name in binaries}
        for turn in range(a.turns):
            for name, binary in binaries.items():
                runs[name].append(run(log, port, a.window, a.seconds, binary))
                r = runs[name][-1]
                print(f"turn {turn + 1} {name}: {r[0]:,.0f} requests/s answered, {r[1] / 1e6:.2f} M events/s, "
                      f"server CPU {r[2]:.1f} us a request", flush=True)
        med = {name: [statistics.median(r[i] for r in rs) for i in range(3)] for name, rs in runs.items()}
        for name, m in med.items():
            print(f"median {name}: {m[0]:,.0f} requests of {COUNT} events answered a second "
                  f"({m[1] / 1e6:.2f} M events/s), server CPU {m[2]:.1f} us a request")
        if a.against:
            print(f"head/base: {med['head'][0] / med['base'][0]:.1f}x the requests a second")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
