"""weir-control follows the dataplane's life: a SIGKILLed dataplane is seen
within a second, what it published is made durable, /healthz says so, and
the next dataplane starts and is drained without anyone restarting
weir-control."""
import glob
import os
import re
import signal
import subprocess
import time

import pytest

import weir_harness
from weir_harness import CHECK, READ, gen_pcap, http_get, load_json, persisted

BODY = """
set corelist 1
port config all rxq 1
ring size 512K
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
decoder weirframe udp-port 27000 topic itch
log fsync batch
shutdown drain-timeout 30s
"""


def healthz(port):
    return http_get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.mark.parametrize("no_huge", [False, True], ids=["hugepages", "no-huge"])
def test_a_killed_dataplane_is_noticed_drained_and_the_next_one_attached_by_itself(deploy, tmp_path, no_huge):
    first, _ = gen_pcap(str(tmp_path), name="first", seed=21, messages=400000, sessions=4)
    # New sources (weir frames): the next dataplane goes on where the log
    # left the first capture's, so those would be duplicates now.
    second, manifest2 = gen_pcap(str(tmp_path), name="second", seed=22, messages=30000, sessions=2,
                                 framing="weir", udp_port=27000)
    link = str(tmp_path / "cur.pcap")  # one config for both runs: the capture behind it changes
    os.symlink(first, link)
    d = deploy("life", f"--vdev=net_pcap0,rx_pcap={link}", BODY, no_huge=no_huge)
    dp = d.start_dataplane("--stop-when-idle", "3")
    d.wait_running()
    cp = d.start_control("--batch-records", "256", "--summary-interval", "0")
    wait_for(lambda: persisted(d.log_dir) > 20000, 60, "records persisted")
    # the drain runs on "control lcore" (0 by default), as when EAL pinned it
    status = open(f"/proc/{cp.pid}/task/{cp.pid}/status").read()
    assert "Cpus_allowed_list:\t0\n" in status, status
    dp.send_signal(signal.SIGKILL)
    dp.wait()
    killed = time.time()
    status, text = wait_for(lambda: (lambda h: h if h[0] == 503 and "not running" in h[1] else None)(
        healthz(d.metrics_port)), 5, "/healthz says the dataplane is not running")
    noticed = time.time() - killed
    print(f"/healthz said the dataplane was gone {noticed * 1000:.0f} ms after the kill")
    assert noticed < 2.5, "noticed too late"
    status, metrics = http_get(f"http://127.0.0.1:{d.metrics_port}/metrics")
    assert status == 200 and "weir_dataplane_up 0" in metrics
    wait_for(lambda: "waiting for the next weir-dataplane" in d.output("control"), 10, "drained and waiting")
    assert cp.poll() is None, d.output("control")
    before = persisted(d.log_dir)
    # the log's own figures are still served while it waits (issue 23 item 14): they are the log's, not the run's
    subprocess.run([READ, "--topic", "itch", "--register", "probe", "--count", "100", d.log_dir], check=True,
                   capture_output=True)  # a registered reader, 100 records in
    wait_for(lambda: "weir_log_next_offset" in http_get(f"http://127.0.0.1:{d.metrics_port}/metrics")[1], 10,
             "the waiting weir-control serving /metrics")
    metrics = http_get(f"http://127.0.0.1:{d.metrics_port}/metrics")[1]
    verify = subprocess.run([READ, "--verify", d.log_dir], capture_output=True, text=True).stdout
    next_itch = int(re.search(r"^itch: .*next offset (\d+)", verify, re.M).group(1))
    assert f'weir_log_next_offset{{topic="itch"}} {next_itch}' in metrics, metrics
    segments = len(glob.glob(os.path.join(d.log_dir, "itch", "*.log")))
    assert f'weir_log_segments{{topic="itch"}} {segments}' in metrics
    assert 'weir_log_size_bytes{topic="itch"}' in metrics and 'weir_log_oldest_offset{topic="itch"} 0' in metrics
    assert "weir_dataplane_up 0" in metrics
    assert f'weir_log_reader_behind_offsets{{topic="itch",reader="probe"}} {next_itch - 100}' in metrics

    os.unlink(link)
    os.symlink(second, link)
    dp2 = d.start_dataplane("--stop-when-idle", "2")
    d.wait_running()  # EAL starts although the old weir-control was attached to the dead one
    assert dp2.wait(timeout=60) == 0, d.output("dataplane")
    out = d.output("control")
    assert "weir-dataplane (pid" in out and "is gone" in out, out
    assert persisted(d.log_dir) - before == load_json(manifest2)["expected"]["event_records"]
    cp.send_signal(signal.SIGINT)
    assert cp.wait(timeout=30) == 0, d.output("control")  # no SIGFPE on the way out
    assert subprocess.run([READ, "--verify", d.log_dir], capture_output=True).returncode == 0


def test_exit_when_done_exits_once_a_crashed_dataplane_is_drained_and_the_crash_says_where(deploy, tmp_path):
    """A dataplane dead of SIGSEGV: weir-control drains what it committed, and the dataplane's last words
    name the signal and the thread, with a backtrace, and it still dies of that signal."""
    pcap, _ = gen_pcap(str(tmp_path), seed=23, messages=400000, sessions=4)
    d = deploy("life2", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "3")
    d.wait_running()
    cp = d.start_control("--batch-records", "256", "--exit-when-done")
    wait_for(lambda: persisted(d.log_dir) > 20000, 60, "records persisted")
    dp.send_signal(signal.SIGSEGV)
    assert dp.wait(timeout=10) == -signal.SIGSEGV
    assert cp.wait(timeout=10) == 0, d.output("control")
    published = persisted(d.log_dir)
    assert published > 20000 and "is gone" in d.output("control")
    out = d.output("dataplane")
    assert re.search(rf"weir-dataplane: fatal signal 11 \(SEGV\) sent by pid {os.getpid()} in thread \S+; backtrace:\n.*\[0x",
                     out), out


@pytest.mark.parametrize("no_huge", [False, True], ids=["hugepages", "no-huge"])
def test_what_a_killed_dataplanes_rings_held_is_drained_by_the_next_control_in_either_mode(
        deploy, tmp_path, no_huge):
    """Issue 22 defect 5: with hugepages the rings were memzones that died with the primary, so a restart of
    both lost what they held (sources first seen there and dead letters without a word).  Now the rings are
    files of their own, on hugetlbfs or in /dev/shm: a new dataplane never lays its rings over records nobody
    drained, a weir-control alone drains them, and the replayed capture then completes the log exactly."""
    pcap, manifest = gen_pcap(str(tmp_path), seed=24, messages=50000, sessions=40, malformed_rate=0.01)
    d = deploy("undrained", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY, no_huge=no_huge)
    dp = d.start_dataplane("--stop-when-idle", "5")
    d.wait_running()
    time.sleep(1.0)  # no weir-control: every record (every source's first) waits in the ring
    dp.send_signal(signal.SIGKILL)
    dp.wait()
    dp2 = d.start_dataplane()
    assert dp2.wait(timeout=40) == 1
    assert "no weir-control drains them" in d.output("dataplane")
    cp = d.start_control("--exit-when-done")  # drains the dead run's rings, then exits
    assert cp.wait(timeout=60) == 0, d.output("control")
    assert "is gone: making what it published durable" in d.output("control")
    held = persisted(d.log_dir)
    assert held > 0
    # a dead run drained, and no next dataplane: --exit-when-done ends after --wait-primary, not never
    cp = d.start_control("--exit-when-done", "--wait-primary", "1", tag="nothing")
    assert cp.wait(timeout=30) == 0 and "nothing is left to drain: done" in d.output("nothing"), d.output("nothing")
    dp3 = d.start_dataplane("--stop-when-idle", "2")
    d.wait_running()
    cp = d.start_control("--exit-when-done", tag="control2")
    assert dp3.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("dataplane")
    assert persisted(d.log_dir) > held
    r = subprocess.run([CHECK, "--manifest", manifest, "--log", d.log_dir, "--replayed"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout[-3000:]
    # drained at last, the region files are gone (their hugepages back in the pool); a lock file stays
    assert not [p for p in glob.glob(f"/dev/hugepages/weir.{d.prefix}.*") + glob.glob(f"/dev/shm/weir.{d.prefix}.*")
                if not p.endswith(".lock")]


def test_a_second_dataplane_on_a_running_prefix_is_refused_at_once(deploy, tmp_path):
    pcap, _ = gen_pcap(str(tmp_path), seed=25, messages=1000, sessions=1)
    d = deploy("twice", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "30")
    d.wait_running()
    second = subprocess.run([weir_harness.DATAPLANE, "-f", d.config], capture_output=True, text=True, timeout=5)
    assert second.returncode != 0 and "is running: stop it, or use another --file-prefix" in second.stderr
    assert dp.poll() is None  # the running one is untouched (the fixture ends it)


def test_a_stop_nobody_drains_says_what_the_reorder_window_held_and_the_next_run_completes_the_log(
        deploy, tmp_path):
    """No weir-control: the ring fills, the worker waits for room, and the stop gives up after drain-timeout
    with events held above open gaps.  It says how many it did not write (the counters agree); a
    weir-control drains what the ring held, a second run on the capture takes each source up where the log
    stops, and the log ends exact.  (Here the stop writes nothing at all; a stop that has room for some
    LOSS records but not the held events below them is test_pipeline's
    should_write_nothing_above_what_a_stop_could_not_write: explorer seed 1148786317.)"""
    pcap, manifest = gen_pcap(str(tmp_path), seed=27, messages=60000, sessions=8, loss=0.01, heartbeat_every=25)
    body = BODY.replace("shutdown drain-timeout 30s", "shutdown drain-timeout 1s") + \
        "sequence reorder-window 64 30s\nsequence gap-timeout 30s\n"
    d = deploy("held", f"--vdev=net_pcap0,rx_pcap={pcap}", body)
    dp = d.start_dataplane()
    d.wait_running()
    time.sleep(1.5)  # the 512K ring is full and the worker waits for room
    dp.send_signal(signal.SIGINT)
    assert dp.wait(timeout=30) == 0, d.output("dataplane")
    held = load_json(d.dataplane_stats)["total"]["reorder_holding"]
    out = d.output("dataplane")
    assert held > 0 and f"{held} events the reorder window held were not written" in out, out
    cp = d.start_control("--exit-when-done", tag="drain")  # what the ring held, then it exits
    assert cp.wait(timeout=60) == 0, d.output("drain")
    dp = d.start_dataplane("--stop-when-idle", "2")
    d.wait_running()
    cp = d.start_control("--exit-when-done", tag="second")
    assert dp.wait(timeout=90) == 0 and cp.wait(timeout=60) == 0, d.output("dataplane")
    assert "were not written" not in d.output("dataplane")
    r = subprocess.run([CHECK, "--manifest", manifest, "--log", d.log_dir, "--replayed"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout[-3000:]
