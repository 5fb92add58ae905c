"""The UDP checksum the NIC leaves is checked on each vector path the CPU
runs (wire/weir_csum_paths.c), chosen by EAL's --force-max-simd-bitwidth:
datagrams of every length around the paths' block sizes, their checksums
computed by scapy, not by weir, and wrong ones (the checksum field, or the
last byte, odd or even, flipped after it was computed) dead letters on every
path."""
import json

import pytest
from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap

from weir_harness import checksum_paths

BODY = """
set corelist 1
port config all rxq 1
set udp-checksum verify
decoder moldudp64 udp-port 26400 topic itch
"""

WIDTHS = checksum_paths()
# No --force-max-simd-bitwidth: DPDK's default on x86 (256), so AVX2 where the CPU has it
DEFAULT = next((0, path, True) for bits, path, runs in reversed(WIDTHS) if runs and bits <= 256)
# message lengths: datagrams of 32-170 bytes (31 more), around the inline sum's bound (128), the AVX2 and
# AVX-512 blocks (32, 64) and their tails, then on to 1,431
LENGTHS = list(range(1, 140)) + list(range(140, 1400, 29)) + [1400]


def mold(session, seq, msg):
    return session.ljust(10).encode() + seq.to_bytes(8, "big") + (1).to_bytes(2, "big") + \
        len(msg).to_bytes(2, "big") + msg


def frames():
    """(good, bad): good ones continue session G; bad ones are session X's, each wrong one way."""
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    v4, v6 = IP(src="198.18.0.1", dst="198.18.0.2"), IPv6(src="2001:db8::1", dst="2001:db8::2")
    good, bad = [], []
    for i, n in enumerate(LENGTHS):
        msg = bytes((i * 7 + k * 13) & 0xFF for k in range(n))
        ip = v6 if i % 5 == 0 else v4
        good.append(eth / ip / UDP(sport=40000, dport=26400) / Raw(mold("G", i + 1, msg)))
        if i % 3 == 0:
            right = bytes(eth / ip / UDP(sport=40000, dport=26400) / Raw(mold("X", i + 1, msg)))
            wrong = bytearray(right)
            wrong[-1] ^= 0x01  # the payload's last byte: the tail every path sums its own way
            bad.append(Ether(bytes(wrong)))
            c = Ether(right)[UDP].chksum
            fixed = c ^ 0x0100 or c ^ 0x0001  # never 0: that is "no checksum" over IPv4
            bad.append(eth / ip / UDP(sport=40000, dport=26400, chksum=fixed) / Raw(mold("X", i + 1, msg)))
    return good, bad


@pytest.mark.parametrize("bits,path,runnable", WIDTHS + [DEFAULT], ids=[w[1] for w in WIDTHS] + ["default"])
def test_every_path_keeps_the_right_checksums_and_refuses_the_wrong_ones(deploy, tmp_path, bits, path, runnable):
    if not runnable:
        pytest.skip(f"this CPU has no {path}")
    good, bad = frames()
    pcap = str(tmp_path / "csum.pcap")
    wrpcap(pcap, good + bad)
    simd = f" --force-max-simd-bitwidth={bits}" if bits else ""
    d = deploy(f"csum-{bits}", f"--vdev=net_pcap0,rx_pcap={pcap}{simd}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("dataplane")
    out = d.output("dataplane")
    said = f"UDP checksums the NIC leaves are summed on the {path} path" + \
        (" from 128-byte datagrams" if path == "avx2" else "") + f" (EAL's SIMD width: {bits or 256} bits)"
    assert said in out, out
    t = json.load(open(d.dataplane_stats))["total"]
    assert t["rx_packets"] == len(good) + len(bad)
    assert t["accepted_packets"] == len(good), t
    assert t["dead_letter"]["l4_bad_checksum"] == len(bad), t
