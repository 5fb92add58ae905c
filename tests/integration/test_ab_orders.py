"""A/B lines in the exact orders an outside probe found wrong (issue 22, defects 6 and 7), written by scapy,
not weir-gen: every sequence number new to the feed is kept from whichever line brought it first, and each
line's won / arbitrated / duplicate figures are exact for any order within a line."""
import json
import os
import struct
import subprocess

import pytest
from scapy.all import IP, UDP, Ether, Raw, wrpcap

from weir_harness import READ, load_json

BODY = """
set corelist 1
port config all rxq 1
ring size 1M
decoder moldudp64 udp-port 26400 topic itch
feed itch line a port 0 group 239.1.1.1 udp-port 26400
feed itch line b port 0 group 239.1.1.2 udp-port 26400
feed itch window 50ms
sequence gap-timeout 2s
log fsync interval 50ms
shutdown drain-timeout 20s
"""
GROUP = {"a": "239.1.1.1", "b": "239.1.1.2"}


def packet(line, first, count):
    """One MoldUDP64 packet of session WEIRAB0001 on line a or b: events first..first+count-1."""
    body = b"WEIRAB0001" + struct.pack(">QH", first, count)
    for seq in range(first, first + count):
        msg = b"E%07d" % seq
        body += struct.pack(">H", len(msg)) + msg
    mac = "01:00:5e:01:01:0%d" % (1 if line == "a" else 2)
    return Ether(src="02:00:00:00:00:01", dst=mac) / IP(src="10.9.0.1", dst=GROUP[line], ttl=8) / \
        UDP(sport=40000, dport=26400) / Raw(body)


def run(deploy, tmp_path, name, order):
    """order: "a:3+2 b:1+2 ..." in arrival order; returns (sequences in the log, per-line figures)."""
    pkts = []
    for tok in order.split():
        line, rest = tok.split(":")
        first, count = (int(x) for x in rest.split("+"))
        pkts.append(packet(line, first, count))
    pcap = os.path.join(str(tmp_path), name + ".pcap")
    wrpcap(pcap, pkts)
    d = deploy(name, f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    out = subprocess.run([READ, "--format", "jsonl", d.log_dir], check=True, capture_output=True, text=True).stdout
    recs = [json.loads(line) for line in out.splitlines()]
    seqs = sorted(r["seq"] for r in recs if r["kind"] == "event")
    st = load_json(d.dataplane_stats)
    assert st["identity_holds"] is True
    return seqs, [r for r in recs if r["kind"] == "loss"], st["lines"]


def test_the_other_lines_first_copies_below_where_the_feed_started_are_kept(deploy, tmp_path):
    seqs, losses, lines = run(deploy, tmp_path, "floor", "a:3+2 a:5+1 b:1+2 b:3+2 b:5+1 a:6+1 b:6+1")
    assert seqs == [1, 2, 3, 4, 5, 6] and losses == [], (seqs, losses)
    assert (lines["itch/a"]["won"], lines["itch/b"]["won"]) == (4, 2), lines
    assert lines["itch/b"]["arbitrated"] == 4 and lines["itch/b"]["duplicates"] == 0, lines


@pytest.mark.parametrize("first,second", [("a", "b"), ("b", "a")], ids=["b-reordered", "a-reordered"])
def test_a_first_copy_behind_its_own_lines_later_packet_is_arbitrated(deploy, tmp_path, first, second):
    order = " ".join(f"{first}:{s}+1" for s in (1, 2, 3, 4)) + " " + " ".join(f"{second}:{s}+1" for s in (1, 3, 2, 4))
    seqs, losses, lines = run(deploy, tmp_path, "reorder", order + f" {second}:2+1")
    assert seqs == [1, 2, 3, 4] and losses == [], (seqs, losses)
    two = lines[f"itch/{second}"]
    assert (two["won"], two["arbitrated"], two["duplicates"]) == (0, 4, 1), lines
