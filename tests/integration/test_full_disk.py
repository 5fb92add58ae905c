"""A log on a full file system: weir-control stays up and says so, the
dataplane's ring-full policy does its counted work (backpressure here:
nothing is lost), and once there is room again weir-control writes on by
itself, nothing lost or duplicated."""
import os
import re
import subprocess
import time

import pytest

from weir_harness import READ, fill_fs, gen_pcap, http_get, load_json, persisted

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync interval 20ms
log segment-size 256K
shutdown drain-timeout 60s
"""


@pytest.fixture
def small_fs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "weirfull", str(mnt)], check=True)
    yield str(mnt)
    subprocess.run(["umount", "-l", str(mnt)])


def on_small_fs(deploy, small_fs, name, pcap):
    """A deployment whose log is on the small file system."""
    d = deploy(name, f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    d.log_dir = os.path.join(small_fs, "log")
    with open(d.config) as f:  # the deployment's log dir onto the small file system
        conf = f.read().replace(f"log dir {os.path.join(d.dir, 'log')}", f"log dir {d.log_dir}")
    with open(d.config, "w") as f:
        f.write(conf)
    return d


def test_a_full_disk_holds_the_records_in_the_rings_and_resumes_without_loss(deploy, tmp_path, small_fs):
    pcap, manifest = gen_pcap(str(tmp_path), seed=31, messages=200000, sessions=4)
    d = on_small_fs(deploy, small_fs, "full", pcap)
    # Idle while it waits for room: the idle stop must outlast the full disk.
    dp = d.start_dataplane("--stop-when-idle", "8")
    d.wait_running()
    stats = os.path.join(d.dir, "control.json")
    cp = d.start_control("--exit-when-done", "--stats-json", stats)
    deadline = time.time() + 60
    while time.time() < deadline:
        status, text = http_get(f"http://127.0.0.1:{d.metrics_port}/healthz", timeout=2)
        if status == 503 and "log takes no writes" in text:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("never reported the full disk: " + d.output("control"))
    assert "No space left on device" in text
    assert cp.poll() is None, d.output("control")  # still up
    status, metrics = http_get(f"http://127.0.0.1:{d.metrics_port}/metrics", timeout=2)
    assert "weir_log_writable 0" in metrics
    time.sleep(1.5)  # a retry or two against the full disk
    subprocess.run(["mount", "-o", "remount,size=256m", small_fs], check=True)
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    out = d.output("control")
    assert "the log takes writes again" in out, out
    d.check(manifest)  # every record once
    # what it says it persisted is what the log holds: appends the full disk rewound are not counted
    assert load_json(stats)["records_persisted"] == persisted(d.log_dir)


def wait_for(d, tag, text, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline and text not in d.output(tag):
        time.sleep(0.1)
    assert text in d.output(tag), d.output(tag)


def test_a_dataplane_dying_on_a_full_disk_leaves_its_records_to_a_drain_that_waits(deploy, tmp_path, small_fs):
    """The dataplane SIGKILLed while the log takes no writes: weir-control waits for room rather than leave
    what the dead run published in the rings (the next dataplane would refuse to start); a signal ends that
    wait, said with the bytes left, and the next weir-control drains them, so a new dataplane starts."""
    pcap, _ = gen_pcap(str(tmp_path), seed=33, messages=200000, sessions=4)
    d = on_small_fs(deploy, small_fs, "fulldead", pcap)
    dp = d.start_dataplane("--stop-when-idle", "30")
    d.wait_running()
    cp = d.start_control()
    wait_for(d, "control", "the log takes no writes")
    dp.kill()
    dp.wait()
    wait_for(d, "control", "waiting for it to drain what is left")
    time.sleep(1.5)
    assert cp.poll() is None, d.output("control")  # waits: the records stay in the rings meanwhile
    cp.terminate()
    assert cp.wait(timeout=30) == 1
    assert re.search(r"stopped by a signal with [1-9]\d* bytes still in the rings", d.output("control"))
    subprocess.run(["mount", "-o", "remount,size=256m", small_fs], check=True)
    drain = d.start_control("--exit-when-done", tag="control2")
    assert drain.wait(timeout=60) == 0, d.output("control2")
    assert persisted(d.log_dir) > 0
    d.start_dataplane("--stop-when-idle", "1")  # it refuses to start over undrained rings
    d.wait_running()
    assert subprocess.run([READ, "--verify", d.log_dir], capture_output=True).returncode == 0


def test_a_disk_full_before_weir_control_first_opens_the_log_is_waited_for_too(deploy, tmp_path, small_fs):
    """The file system full before weir-control makes its topics (a new topic's first segment, its very
    directory): it starts all the same, says so and waits, as for a disk that fills later (it exited 1, and
    nothing drained the rings: explorer seed 44); with room again it writes every record once."""
    pcap, manifest = gen_pcap(str(tmp_path), seed=37, messages=50000, sessions=4)
    d = on_small_fs(deploy, small_fs, "fullfirst", pcap)
    fill_fs(os.path.join(small_fs, "filler"))
    dp = d.start_dataplane("--stop-when-idle", "8")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    wait_for(d, "control", "the log takes no writes")
    status, text = http_get(f"http://127.0.0.1:{d.metrics_port}/healthz", timeout=2)
    assert status == 503 and "No space left on device" in text, text
    time.sleep(1.5)  # a retry or two against the full disk
    assert cp.poll() is None, d.output("control")
    subprocess.run(["mount", "-o", "remount,size=256m", small_fs], check=True)
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    assert "the log takes writes again" in d.output("control")
    d.check(manifest)  # every record once
