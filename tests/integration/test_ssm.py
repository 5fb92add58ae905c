"""Source-specific multicast is enforced by the dataplane, not only asked of the network: over a PMD in
promiscuous or all-multicast mode any sender's packets to the group arrive, and only the feed's source
may feed it.  The traffic is scapy's, with its own ground truth (issue 23 item 1)."""
import json
import struct
import subprocess
import time

import pytest
from scapy.all import IP, UDP, Ether, Raw, wrpcap

from weir_harness import READ, http_get, load_json

BODY = """
set corelist 1
port config all rxq 1
ring size 1M
decoder moldudp64 udp-port 26400 topic itch
{feeds}
log fsync interval 50ms
shutdown drain-timeout 20s
"""
ONE = "feed itch port 0 group 239.7.7.2 source 10.7.0.2 udp-port 26400"
LINES = ("feed itch line a port 0 group 239.7.7.2 source 10.7.0.2 udp-port 26400\n"
         "feed itch line b port 0 group 239.7.7.3 source 10.7.0.3 udp-port 26400\nfeed itch window 50ms")


def packet(src, group, seq):
    body = b"WEIRSSM001" + struct.pack(">QH", seq, 1) + struct.pack(">H", 8) + b"E%07d" % seq
    mac = "01:00:5e:07:07:0%s" % group[-1]
    return Ether(src="02:00:00:00:00:01", dst=mac) / IP(src=src, dst=group, ttl=8) / \
        UDP(sport=40000, dport=26400) / Raw(body)


@pytest.mark.parametrize("shape", ["one-line", "ab-lines"])
def test_packets_to_a_source_specific_group_from_another_sender_are_filtered_and_counted(deploy, tmp_path, shape):
    pkts = []
    for seq in range(1, 6):  # the feed's own, and the same numbers from a stranger to the same group
        pkts.append(packet("10.7.0.2", "239.7.7.2", seq))
        pkts.append(packet("10.7.0.66", "239.7.7.2", seq + 100))
        if shape == "ab-lines":
            pkts.append(packet("10.7.0.3", "239.7.7.3", seq))       # b's copy from b's source: arbitrated
            pkts.append(packet("10.7.0.2", "239.7.7.3", seq + 200))  # a's sender on b's group: not b's
    pcap = str(tmp_path / "ssm.pcap")
    wrpcap(pcap, pkts)
    d = deploy("ssm", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY.format(feeds=ONE if shape == "one-line" else LINES))
    dp = d.start_dataplane("--stop-when-idle", "3")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    want = (['weir_feed_wrong_source_total{feed="itch"} 5'] if shape == "one-line" else
            ['weir_feed_wrong_source_total{feed="itch",line="a"} 5',
             'weir_feed_wrong_source_total{feed="itch",line="b"} 5'])
    rows = []
    deadline = time.time() + 30
    while time.time() < deadline and rows != want and dp.poll() is None:  # /metrics while it runs
        text = http_get(f"http://127.0.0.1:{d.metrics_port}/metrics")[1]
        rows = sorted(line for line in text.splitlines() if line.startswith("weir_feed_wrong_source_total"))
        time.sleep(0.1)
    assert rows == want
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    out = subprocess.run([READ, "--format", "jsonl", d.log_dir], check=True, capture_output=True, text=True).stdout
    seqs = sorted(json.loads(line)["seq"] for line in out.splitlines() if '"kind":"event"' in line)
    assert seqs == [1, 2, 3, 4, 5]  # none of the stranger's
    st = load_json(d.dataplane_stats)
    t = st["total"]
    strangers = 5 if shape == "one-line" else 10
    assert t["filtered_wrong_source"] == strangers and t["filtered_packets"] == strangers
    assert st["identity_holds"] is True
    if shape == "ab-lines":
        assert st["lines"]["itch/a"]["wrong_source"] == 5 and st["lines"]["itch/b"]["wrong_source"] == 5
        assert st["lines"]["itch/b"]["arbitrated"] == 5
