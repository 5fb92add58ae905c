"""Hot-path hygiene on the real binaries: while traffic flows through the full pipeline (100 rules, sequence
tracking, commits under backpressure with weir-control draining), the worker lcore makes no system call and
no heap allocation.  Four times: a feed of one line, and a feed of A and B lines (each losing some of what the
other brings, the second copy's short way and the arbitration) behind an address allowlist and a session list that
filters one of its sessions and keeps what it filters, both with rules (the burst's general copy); one line
without rules, the plain shape's own copy of the tracking stage; and A and B lines alone, the lines shape's copy
(weir_pipeline_shape; the worker's tracking_* gauges say which copy ran).

Syscalls: strace attached to the worker thread alone for two seconds.  Allocations: an LD_PRELOAD shim
(tests/hygiene/alloc_count.c) counting the malloc and rte_malloc families by thread in a time window.  Both
instruments are shown to be live on the same run: strace sees the main lcore's calls, the shim sees the
allocations of start-up.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from weir_harness import BUILD, GEN, gen_pcap

SHIM = os.path.join(BUILD, "tests", "hygiene", "weir_alloc_count.so")

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
sequence sources 4096
sequence gap-timeout 2s
log fsync interval 100ms
shutdown drain-timeout 30s
"""


FEED_LINES = """
feed itch line a port 0 group 239.1.1.1 udp-port 26400
feed itch line b port 0 group 239.1.1.2 udp-port 26400
feed itch window 50ms
"""
LINES = """
decoder moldudp64 udp-port 26400 topic itch allow 198.18.0.0/24,2001:db8::/32 sources S0000,S0001,S0002,S0003 unauthorized keep
""" + FEED_LINES
LINE_TRAFFIC = dict(sessions=5, lines=2, line_loss="0.05,0.05", line_delay=20, heartbeat_every=50)
SHAPES = {
    # Every pass of the capture closes its sessions, so replayed forever each pass is new events.
    # (traffic, config, with 100 rules)
    "one-line": (dict(sessions=4), BODY, True),
    "lines-allowlist": (LINE_TRAFFIC, BODY.replace("decoder moldudp64 udp-port 26400 topic itch\n", LINES), True),
    "plain": (dict(sessions=4), BODY, False),
    "lines": (LINE_TRAFFIC, BODY + FEED_LINES, False),
}


def rules_file(path, n=100):
    """weir-gen's rules shaped like an operator's, as the benchmarks use."""
    subprocess.run([GEN, "rules", "--count", str(n), "--out", str(path)], check=True)
    return str(path)


def threads(pid):
    """{tid: comm} of a process."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(task + "/comm") as f:
                out[int(os.path.basename(task))] = f.read().strip()
        except OSError:
            pass
    return out


def strace_for(tid, seconds, out):
    """The system calls one thread makes in a window: one line each in out."""
    p = subprocess.Popen(["strace", "-qq", "-p", str(tid), "-o", out], stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=10)
    with open(out) as f:
        return [ln for ln in f.read().splitlines() if ln.strip()]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (scripts/setup.sh installs it)")
@pytest.mark.parametrize("shape", SHAPES)
def test_the_worker_makes_no_syscall_and_no_allocation_while_traffic_flows(deploy, tmp_path, shape):
    traffic, body, with_rules = SHAPES[shape]
    pcap, _ = gen_pcap(str(tmp_path), seed=5, messages=16000, per_packet="1-4", payload="8-64", end_session=True,
                       **traffic)
    d = deploy("hygiene", f"--vdev=net_pcap0,rx_pcap={pcap},infinite_rx=1",
               body + (f"rules {rules_file(tmp_path / 'rules.txt')}\n" if with_rules else ""))
    report = str(tmp_path / "alloc.json")
    window = (4.0, 30.0)
    env = dict(os.environ, LD_PRELOAD=SHIM, WEIR_HYGIENE_WINDOW=f"{window[0]}:{window[1]}",
               WEIR_HYGIENE_REPORT=report)
    t0 = time.monotonic()
    dp = d.start_dataplane(env=env)
    d.wait_running()
    # The worker's set-up must be over before the window opens: only its loop is judged.
    assert time.monotonic() - t0 < window[0] - 0.5, "the dataplane took too long to start for the window"
    cp = d.start_control("--exit-when-done")
    workers = [t for t, c in threads(dp.pid).items() if c.startswith(("rte-worker", "lcore-worker"))]
    assert len(workers) == 1, threads(dp.pid)

    time.sleep(max(0.0, window[0] + 0.5 - (time.monotonic() - t0)))
    stats_before = d.stats_now()
    worker_calls = strace_for(workers[0], 2.0, str(tmp_path / "worker.strace"))
    main_calls = strace_for(dp.pid, 1.0, str(tmp_path / "main.strace"))
    stats_after = d.stats_now()
    assert time.monotonic() - t0 < window[1], "the checks ran past the allocation window: machine too slow"
    d.stop(cp)

    # Traffic went through the whole pipeline while we watched.
    moved = stats_after["rx_packets"] - stats_before["rx_packets"]
    assert moved > 10000, (stats_before, stats_after)
    assert stats_after["event_records"] > stats_before["event_records"]
    if with_rules:
        assert stats_after["rules_generation"] >= 1, "the 100 rules were not in force: the scan path did not run"
    else:
        assert stats_after["rule_matches"] == 0 and stats_after["rule_burst_scans"] == 0, stats_after
    # The copy of the tracking stage this shape is named for is the one the bursts ran (weir_pipeline_shape).
    copies = ("tracking_plain", "tracking_lines", "tracking_any")
    ran = {"plain": "tracking_plain", "lines": "tracking_lines"}.get(shape, "tracking_any")
    assert [stats_after[k] for k in copies] == [int(k == ran) for k in copies], {k: stats_after[k] for k in copies}
    if "lines" in shape:  # both lines' paths ran
        for k in ("seq_arbitrated", "seq_line_fills"):
            assert stats_after[k] > stats_before[k], k
    if shape == "lines-allowlist":  # and the session list filtered (and kept) its outsider
        for k in ("filtered_unauthorized_source", "dead_letter_records"):
            assert stats_after[k] > stats_before[k], k
    # No allocation on the worker in the window; start-up's show the shim was in the path.
    with open(report) as f:
        alloc = json.load(f)
    assert alloc["worker_in_window_total"] == 0, alloc
    assert alloc["outside_window"] > 100, alloc
    # No system call (the shim's own prctl would show one, had it counted an allocation) on the worker; the main lcore's show strace was watching.
    assert worker_calls == [], worker_calls[:20]
    assert main_calls, "strace saw nothing on the main lcore either: the instrument is not working"
    shutil.rmtree(d.log_dir)  # gigabytes of replayed events: kept only when the test fails
    print(f"hygiene: {moved} packets while watched; worker syscalls 0 (main lcore {len(main_calls)}); "
          f"worker allocations 0 (start-up {alloc['outside_window']})")
