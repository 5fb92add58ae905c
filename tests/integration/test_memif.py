"""weir-gen on one end of a net_memif pair, weir-dataplane on the other: live loss, re-requests, recovery.

Stops in order (the dataplane first, the sender holding its port up unpolled until then): a memif peer
that leaves while the other side polls can crash that side (send_over_memif_then_stop says why).
"""
import os

from weir_harness import load_json, memif_server, memif_socket, send_over_memif_then_stop

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
    send_over_memif_then_stop(
        d, [cp], sock, f"wg-memif-{os.getpid()}", manifest,
        "--to", "198.18.0.2:26400", "--serve", "198.18.0.1:26401",
        "--seed", "5", "--messages", "30000", "--sessions", "3", "--loss", "0.02", "--burst-loss", "3",
        "--forget", "0.3", "--reorder", "0.01", "--heartbeat-every", "20", "--end-session",
        "--rate", "50000", "--linger", "2")
    d.check(manifest)
    t = load_json(d.dataplane_stats)["total"]
    assert t["rerequests_sent"] > 0 and t["gap_events_recovered"] > 0
    assert load_json(manifest)["expected"]["gap_events_lost"] > 0
    assert "port 0 (net_memif): stop weir-dataplane before its memif peer" in d.output("dataplane")
