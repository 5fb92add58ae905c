"""A second weir-control started by mistake on a draining dataplane is refused, naming the first, in
hugepage and --no-huge mode; the first drains on and the log holds every event once."""
import os
import re
import time

import pytest

from weir_harness import free_port, gen_pcap

BODY = """
set corelist 1
port config all rxq 1
ring size 512K
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync batch
log segment-size 1M
shutdown drain-timeout 60s
"""


def second_config(d):
    """The same deployment with its own metrics port: otherwise the second would stop at the bind."""
    path = os.path.join(d.dir, "second.conf")
    text = re.sub(r"metrics listen 127\.0\.0\.1:\d+", f"metrics listen 127.0.0.1:{free_port()}",
                  open(d.config).read())
    with open(path, "w") as f:
        f.write(text)
    return path


def wait_for(d, tag, text, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in d.output(tag):
            return
        assert proc.poll() is None, f"{tag} exited {proc.returncode}:\n" + d.output(tag)
        time.sleep(0.05)
    raise AssertionError(f"{tag} never said {text!r}:\n" + d.output(tag))


@pytest.mark.parametrize("no_huge", [False, True], ids=["hugepages", "no-huge"])
def test_a_second_control_is_refused_with_the_first_ones_pid(deploy, tmp_path, no_huge):
    pcap, manifest = gen_pcap(str(tmp_path), seed=5, messages=200000, sessions=4)
    d = deploy("twoctl", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY, no_huge=no_huge)
    dp = d.start_dataplane("--stop-when-idle", "3")
    d.wait_running()
    first = d.start_control("--batch-records", "256", "--exit-when-done", tag="first")
    wait_for(d, "first", "weir-control: draining", first)
    d.config, own = second_config(d), d.config
    second = d.start_control("--exit-when-done", tag="second")
    d.config = own
    rc = second.wait(timeout=30)
    out = d.output("second")
    assert rc != 0, "the second weir-control was let in:\n" + out
    assert f"(pid {first.pid})" in out and "another weir-control drains" in out, out
    assert "draining" not in out, out
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert first.wait(timeout=60) == 0, d.output("first")
    d.check(manifest)
