"""A jumbo frame is more than a worker takes whole: a dead letter with its
real length, never a record that says 2048."""
import json
import subprocess

from scapy.all import IP, UDP, Ether, Raw, wrpcap

from weir_harness import DATAPLANE, READ

BODY = """
set corelist 1
port config all rxq 1
decoder moldudp64 udp-port 26400 topic itch
dead-letter keep-bytes 128
"""


def mold(session, seq, msgs):
    body = session.ljust(10).encode() + seq.to_bytes(8, "big") + len(msgs).to_bytes(2, "big")
    return body + b"".join(len(m).to_bytes(2, "big") + m for m in msgs)


def test_a_jumbo_frame_is_a_dead_letter_that_states_its_real_length(deploy, tmp_path):
    pcap = str(tmp_path / "jumbo.pcap")
    base = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="198.18.0.1", dst="198.18.0.2")
    jumbo = base / UDP(sport=40000, dport=26400) / Raw(mold("J", 1, [b"x" * 8960]))
    small = base / UDP(sport=40000, dport=26400) / Raw(mold("J", 1, [b"hello"]))
    wrpcap(pcap, [small, jumbo])
    jumbo_len = len(bytes(jumbo))
    assert jumbo_len > 9000
    d = deploy("jumbo", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    check = subprocess.run([DATAPLANE, "--check", d.config], capture_output=True, text=True)
    assert "frames up to 2048 bytes are taken whole" in check.stdout, check.stdout + check.stderr
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("dataplane")
    t = json.load(open(d.dataplane_stats))["total"]
    assert t["rx_packets"] == 2 and t["accepted_packets"] == 1
    assert t["dead_letter"]["multi_segment"] == 1
    out = subprocess.run([READ, "--format", "jsonl", "--topic", "_deadletter", d.log_dir], capture_output=True,
                         text=True, check=True).stdout
    (rec,) = [json.loads(line) for line in out.splitlines()]
    assert rec["reason"] == "multi_segment" and rec["count"] == jumbo_len
    assert "truncated" in rec["flags"] and len(rec["payload_hex"]) == 2 * 128
