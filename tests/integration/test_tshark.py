"""weir's MoldUDP64 decode agrees with tshark's independent dissector on the same capture."""
import shutil
import subprocess

import pytest

from weir_harness import gen_pcap
from test_pcap import BODY, run_to_end


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_logged_session_sequence_and_lengths_match_tsharks_moldudp64_dissector(deploy, tmp_path):
    pcap, manifest = gen_pcap(str(tmp_path), seed=21, messages=3000, sessions=3, per_packet="1-10",
                              payload="0-120", vlan_rate=0.3, ipv6_rate=0.3, heartbeat_every=7, end_session=True)
    out = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==26400,moldudp64", "-T", "fields",
                          "-E", "separator=|", "-e", "moldudp64.session", "-e", "moldudp64.sequence",
                          "-e", "moldudp64.count", "-e", "moldudp64.msglen"],
                         check=True, capture_output=True, text=True).stdout
    want_events, want_eos, heartbeats = [], [], 0
    for line in out.splitlines():
        session, seq, count, lens = line.split("|")
        session, seq, count = session.strip(), int(seq), int(count)
        if count == 0:
            heartbeats += 1
        elif count == 0xFFFF:
            want_eos.append((session, seq))
        else:
            lens = [int(x) for x in lens.split(",")]
            assert len(lens) == count
            want_events += [(session, seq + i, n) for i, n in enumerate(lens)]
    assert len(want_events) == 3000 and heartbeats > 0 and len(want_eos) == 3

    d = deploy("tshark", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    run_to_end(d)
    got = [(r["source"], r["seq"], len(r["payload_hex"]) // 2) for r in d.log_records("event")]
    got_eos = [(r["source"], r["seq"]) for r in d.log_records("end_of_session")]
    assert sorted(got) == sorted(want_events)
    assert sorted(got_eos) == sorted(want_eos)
