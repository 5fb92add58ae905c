"""weir-gen on one end of a net_memif pair, weir-dataplane on the other: live loss, re-requests, recovery.

Stops in order (the sender first, then the dataplane): a memif peer that
vanishes mid-forwarding is the case that has crashed testpmd here.
"""
import os
import subprocess
import time

from weir_harness import gen_over_memif, load_json, memif_server, memif_socket, remove_dpdk_files

BODY = """
set corelist 1
port config all rxq 1
ring size 8M
decoder moldudp64 udp-port 26400 topic feed rerequest 198.18.0.1:26401
sequence gap-timeout 800ms
sequence rerequest-interval 40ms
sequence rerequest-max 4
log fsync interval 50ms
shutdown drain-timeout 20s
"""


def test_dpdk_sender_over_memif_recovers_gaps_through_rerequests(deploy, tmp_path):
    sock = memif_socket("wm")
    d = deploy("memif", memif_server(sock), BODY)
    d.start_dataplane()
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    manifest = str(tmp_path / "sent.json")
    gen_prefix = f"wg-memif-{os.getpid()}"
    try:
        gen = subprocess.run(
            gen_over_memif(sock, gen_prefix,
             "--to", "198.18.0.2:26400", "--serve", "198.18.0.1:26401", "--manifest", manifest,
             "--seed", "5", "--messages", "30000", "--sessions", "3", "--loss", "0.02", "--burst-loss", "3",
             "--forget", "0.3", "--reorder", "0.01", "--heartbeat-every", "20", "--end-session",
             "--rate", "50000", "--linger", "2"),
            capture_output=True, text=True, timeout=120)
    finally:
        remove_dpdk_files(gen_prefix)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    time.sleep(1.0)  # the last gaps reach their deadline
    d.stop(cp)
    d.check(manifest)
    t = load_json(d.dataplane_stats)["total"]
    assert t["rerequests_sent"] > 0 and t["gap_events_recovered"] > 0
    assert load_json(manifest)["expected"]["gap_events_lost"] > 0
    assert "net_memif" in d.output("dataplane")
