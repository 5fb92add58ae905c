"""Logs for weir-replay's tests: log A, a weir-gen capture with faults through one weir (a fixture per module),
and what the tests compare of logs."""
import re
import subprocess
from collections import Counter

import pytest

import weirlog
from weir_harness import REPLAY, Deployment, eal_mem, gen_pcap

BODY = """
set corelist 1
port config all rxq 1
ring size 8M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
sequence gap-timeout 300ms
log fsync interval 50ms
shutdown drain-timeout 20s
"""


def run_to_end(d):
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=180) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")


def read_topic(log_dir, topic="itch"):
    with weirlog.Reader(log_dir, topic) as r:
        return list(r)


def events(entries):
    return Counter((e.source_key, e.seq, e.payload) for e in entries if e.kind == "event")


def late(entries):
    return {(e.source_key, e.seq) for e in entries if e.kind == "event" and "late" in e.flags}


def lost(entries):
    """Every (source, seq) the log states lost."""
    return {(e.source_key, s) for e in entries if e.kind == "loss" for s in range(e.seq, e.seq + e.count)}


def keyed_by_sender(tmp_path, name, pcap):
    """pcap through a weir whose sources are keyed by sender (sequence key source+sender): (log dir, entries)."""
    body = BODY.replace("sequence gap-timeout 300ms", "sequence gap-timeout 300ms\nsequence key source+sender")
    d = Deployment(tmp_path, name, f"--vdev=net_pcap0,rx_pcap={pcap}", body)
    try:
        run_to_end(d)
        return d.log_dir, read_topic(d.log_dir)
    finally:
        d.close()


def replay(*args, check=True, timeout=120):
    r = subprocess.run([REPLAY, "send", "--quiet", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def port_file(tmp_path, prefix, vdev, *lines, mbufs=4095):
    """A port file for weir-replay send --port-config: its own file prefix, the device vdev, lcore 1."""
    path = tmp_path / f"{prefix}.conf"
    path.write_text(f"eal --file-prefix={prefix} {eal_mem()} --no-pci --log-level=lib.eal:warning\n"
                    f"eal {vdev}\nset corelist 1\nset mbufs {mbufs}\n" + "".join(line + "\n" for line in lines))
    return str(path)


def figure(summary, name):
    return int(re.search(r"(\d+) " + name, summary).group(1))


@pytest.fixture(scope="module")
def log_a(tmp_path_factory):
    """A weir-gen capture with loss, reordering, duplicates, heartbeats and ends of session, through weir: log A."""
    tmp = tmp_path_factory.mktemp("replay_a")
    pcap, manifest = gen_pcap(str(tmp), seed=23, messages=40000, sessions=6, per_packet="1-8", payload="0-120",
                              loss=0.01, reorder=0.01, duplicate=0.01, heartbeat_every=30, end_session=True)
    d = Deployment(tmp, "a", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    try:
        run_to_end(d)
        d.check(manifest)  # log A is the generator's ground truth
        yield d.log_dir, manifest, read_topic(d.log_dir)
    finally:
        d.close()
