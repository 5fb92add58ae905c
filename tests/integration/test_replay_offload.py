"""weir-replay send leaves UDP checksums to the NIC where the port offers the offload: net_tap does (it
finishes them in software, the way DPDK asks a NIC to: from the pseudo-header's sum in the field, with the
headers' lengths in the mbuf).  Oracles: the kernel's own capture of the tap (dumpcap, started before
weir-replay attaches to the tap), tshark checking every UDP checksum itself and reading the frames as
MoldUDP64, against log A's events."""
import contextlib
import os
import select
import subprocess
import time

import pytest

from replay_logs import figure, log_a, port_file, replay  # noqa: F401
from weir_harness import remove_dpdk_files, sh


@contextlib.contextmanager
def tap_capture(name, out):
    """A persistent multi-queue tap that net_tap attaches to by name, captured from before it does."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a tap device")
    sh("ip", "tuntap", "add", "dev", name, "mode", "tap", "multi_queue")
    cap = None
    try:
        sh("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.disable_ipv6=1")  # none of the kernel's own packets
        sh("ip", "link", "set", name, "up")
        # -q: no counts on stderr, which nobody reads once the capture has started
        cap = subprocess.Popen(["dumpcap", "-q", "-i", name, "-f", "udp port 26400", "-B", "64", "-P", "-w", out],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        said = b""
        deadline = time.time() + 20
        while b"Capturing on" not in said and time.time() < deadline and cap.poll() is None:
            if select.select([cap.stderr], [], [], 0.2)[0]:  # a silent dumpcap cannot hang the wait
                said += os.read(cap.stderr.fileno(), 4096)
        assert b"Capturing on" in said, said.decode(errors="replace")
        yield
    finally:
        if cap:
            time.sleep(0.5)  # the last frames through the kernel to the capture
            cap.terminate()
            cap.wait(timeout=20)
        subprocess.run(["ip", "tuntap", "del", "dev", name, "mode", "tap", "multi_queue"], capture_output=True)


@pytest.mark.parametrize("to,how", [("198.18.0.2:26400", "nic"), ("[fd00::2]:26400", "nic"),
                                    ("198.18.0.2:26400", "software")], ids=["ipv4-nic", "ipv6-nic", "ipv4-software"])
def test_a_port_that_offers_the_udp_checksum_offload_finishes_every_checksum(tmp_path, log_a, to, how):
    log, _, a = log_a
    ev = [e for e in a if e.kind == "event"]
    span = ev[-1].rx_ns - ev[0].rx_ns
    tap, prefix = f"wtx{os.getpid() % 100000}", f"wt-tx{os.getpid()}"
    out = str(tmp_path / "tap.pcap")
    with tap_capture(tap, out):
        try:
            # paced over about 2 s: one frame a burst, each a write into the tap the capture keeps up with
            conf = port_file(tmp_path, prefix, f"--vdev=net_tap0,iface={tap}")
            r = replay("--topic", "itch", "--port-config", conf, "--to", to, "--udp-checksum", how,
                       "--speed", f"{span / 2e9:.9f}", "--heartbeat", "0", log)
        finally:
            remove_dpdk_files(prefix)
    said = "UDP checksums in the NIC (its TX offload)" if how == "nic" else "UDP checksums on the"
    assert said in r.stdout, r.stdout
    # tap refuses a port without RX queues; that probe's refusal is not printed as if the run had failed
    assert "one RX queue its driver asks for" in r.stdout, r.stdout
    assert "dev_configure" not in r.stdout + r.stderr and "rx queues" not in r.stdout + r.stderr, r.stdout + r.stderr
    rows = subprocess.run(["tshark", "-r", out, "-o", "udp.check_checksum:TRUE", "-d", "udp.port==26400,moldudp64",
                           "-T", "fields", "-e", "udp.checksum.status", "-e", "moldudp64.session",
                           "-e", "moldudp64.sequence", "-e", "moldudp64.count"],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    rows = [row.split("\t") for row in rows if row]
    assert len(rows) == figure(r.stdout, "packets"), r.stdout
    assert {row[0] for row in rows} == {"1"}  # tshark's own sum: 1 good, 0 bad
    got = {(session.strip(), int(seq) + i) for _, session, seq, count in rows if int(count) != 0xFFFF
           for i in range(int(count))}
    assert got == {(e.source.strip(), e.seq) for e in ev}
