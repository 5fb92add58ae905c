"""weir on a veth pair through net_af_packet, fed by an ordinary kernel UDP sender in a netns."""
import json
import os
import subprocess
import sys
import time

import pytest

from weir_harness import CHECK, load_json, veth_pair

HERE = os.path.dirname(os.path.abspath(__file__))

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
decoder moldudp64 udp-port 26400 topic feed
log fsync interval 50ms
shutdown drain-timeout 20s
"""


@pytest.fixture
def veth():
    with veth_pair(False) as v:
        yield v


@pytest.fixture
def veth6():
    with veth_pair(True) as v:
        yield v


def test_kernel_udp_sender_over_veth_is_logged_exactly_once(deploy, tmp_path, veth):
    ns, iface = veth
    d = deploy("afp", f"--vdev=net_af_packet0,iface={iface},qpairs=1", BODY)
    d.start_dataplane()
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    manifest = str(tmp_path / "sent.json")
    subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.join(HERE, "udp_sender.py"),
                    "--to", "198.18.7.2", "--messages", "8000", "--sessions", "4", "--manifest", manifest],
                   check=True, timeout=120)
    man = load_json(manifest)
    # Stop once everything sent has been seen (bounded), then let it drain.
    deadline = time.time() + 30
    while time.time() < deadline:
        time.sleep(0.2)
        recs = subprocess.run([os.path.join(os.path.dirname(CHECK), "weir-read"), "--verify", d.log_dir],
                              capture_output=True, text=True).stdout
        if f"{man['messages']} records" in recs:
            break
    d.stop(cp)
    d.check(manifest, with_stats=False)  # the kernel's own traffic is on the veth too
    t = load_json(d.dataplane_stats)["total"]
    assert load_json(d.dataplane_stats)["identity_holds"] is True
    assert t["event_records"] == man["messages"]
    for reason, n in man["expected"]["dead_letter"].items():
        assert t["dead_letter"][reason] == n, reason
    assert t["ring_full_packets"] == 0
    assert "net_af_packet" in d.output("dataplane")


RECOVERY_BODY = """
set corelist 1
port config all rxq 1
ring size 8M
decoder moldudp64 udp-port 26400 topic feed rerequest 198.18.7.1:26401
sequence gap-timeout 800ms
sequence rerequest-interval 40ms
sequence rerequest-max 4
sequence rerequest-max-count 200
log fsync interval 50ms
shutdown drain-timeout 20s
"""


def recovery_run(deploy, tmp_path, veth, name, body, to, serve, *gen_args):
    """weir on the veth with a re-request server behind it, weir-gen sending from the netns; the manifest."""
    from weir_harness import GEN
    ns, iface = veth
    d = deploy(name, f"--vdev=net_af_packet0,iface={iface},qpairs=1", body)
    d.start_dataplane()
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    manifest = str(tmp_path / "sent.json")
    sender = subprocess.run(["ip", "netns", "exec", ns, GEN, "send", "--to", to, "--serve", serve, "--manifest",
                             manifest, *gen_args, "--end-session", "--rate", "20000", "--linger", "3"],
                            capture_output=True, text=True, timeout=120)
    assert sender.returncode == 0, sender.stderr
    assert "re-requests answered" in sender.stdout, sender.stdout
    return d, cp, load_json(manifest), manifest


def test_gaps_are_rerequested_over_tx_and_recovered_and_forgotten_events_become_loss_records(
        deploy, tmp_path, veth):
    d, cp, man, manifest = recovery_run(
        deploy, tmp_path, veth, "recover", RECOVERY_BODY, "198.18.7.2:26400", "198.18.7.1:26401",
        "--seed", "9", "--messages", "30000", "--sessions", "4", "--per-packet", "1-6", "--loss", "0.02",
        "--burst-loss", "2", "--forget", "0.3", "--reorder", "0.01", "--duplicate", "0.005", "--heartbeat-every", "20")
    lost = man["expected"]["gap_events_lost"]
    assert lost > 0 and man["faults"]["lost_packets"] > 0
    deadline = time.time() + 20  # every gap is recovered or timed out by now
    while time.time() < deadline and not os.path.exists(d.dataplane_stats):
        out = subprocess.run([os.path.join(os.path.dirname(CHECK), "weir-read"), "--verify", d.log_dir],
                             capture_output=True, text=True).stdout
        if f"events {man['expected']['event_records']}," in out and "loss" in out:
            break
        time.sleep(0.2)
    time.sleep(1.0)
    # Live, read-only: the loss report while the dataplane runs.
    stat = subprocess.run([os.path.join(os.path.dirname(CHECK), "weir-stat"), "-f", d.config, "--loss", "--json",
                           "--count", "1", "--interval", "0.1"], capture_output=True, text=True, timeout=60)
    assert stat.returncode == 0, stat.stderr
    lines = [ln for ln in stat.stdout.splitlines() if ln.startswith("{")]
    assert lines, stat.stdout + stat.stderr
    live = json.loads(lines[-1])
    assert live["state"] == "running"
    assert live["counters"]["total"]["rerequests_sent"] > 0
    by_source = {r["source"]: r for r in live["loss"]["sources"]}
    assert sorted(by_source) == sorted(s["session"] for s in man["sessions"])
    assert sum(r["recovered"] for r in by_source.values()) > 0
    assert sum(r["requests_sent"] for r in by_source.values()) == live["counters"]["total"]["rerequests_sent"]
    for s in man["sessions"]:
        assert by_source[s["session"]]["lost"] == sum(hi - lo + 1 for lo, hi in s["lost"])
    d.stop(cp)
    d.check(manifest)
    t = load_json(d.dataplane_stats)["total"]
    assert t["rerequests_sent"] > 0
    assert t["gap_events_recovered"] > 0
    retransmitted = [rec for rec in d.log_records("event") if "retransmitted" in rec["flags"]]
    assert retransmitted, "no event came back from the retransmission server"
    assert all("late" in rec["flags"] for rec in retransmitted)


def test_an_ipv6_feeds_gaps_are_rerequested_over_ipv6_and_filled(deploy, tmp_path, veth6):
    body = RECOVERY_BODY.replace("rerequest 198.18.7.1:26401", "rerequest [fd00:7::1]:26401")
    d, cp, man, manifest = recovery_run(
        deploy, tmp_path, veth6, "recover6", body, "[fd00:7::2]:26400", "[fd00:7::1]:26401",
        "--seed", "19", "--messages", "20000", "--sessions", "3", "--per-packet", "1-6", "--loss", "0.02",
        "--burst-loss", "2")
    assert man["faults"]["lost_packets"] > 0
    deadline = time.time() + 20
    while time.time() < deadline:
        out = subprocess.run([os.path.join(os.path.dirname(CHECK), "weir-read"), "--verify", d.log_dir],
                             capture_output=True, text=True).stdout
        if f"events {man['expected']['event_records']}," in out:
            break
        time.sleep(0.2)
    d.stop(cp)
    d.check(manifest, with_stats=False)  # the netns kernel's own IPv6 traffic (MLD, RS) is on the veth too
    t = load_json(d.dataplane_stats)["total"]
    assert t["rerequests_sent"] > 0 and t["gap_events_recovered"] > 0, t
    assert t["gap_events_lost"] == 0, t  # nothing forgotten by the server: every gap filled, over IPv6
    recs = d.log_records("event")
    assert sum("retransmitted" in r["flags"] for r in recs) == t["gap_events_recovered"]
