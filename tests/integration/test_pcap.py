"""A weir-gen capture through net_pcap: exactly the manifest, in the log and in the counters."""
import json
import os
import re
import signal
import subprocess

import pytest

from weir_harness import CHECK, DATAPLANE, gen_pcap, load_json

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync interval 50ms
shutdown drain-timeout 20s
"""


def run_to_end(d):
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    cp = d.start_control("--exit-when-done", "--stats-json", os.path.join(d.dir, "control.json"))
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")


@pytest.mark.parametrize("no_huge", [False, True], ids=["hugepages", "no-huge"])
def test_every_message_of_a_capture_is_logged_once_and_every_malformed_packet_counted_by_reason(
        deploy, tmp_path, no_huge):
    pcap, manifest = gen_pcap(str(tmp_path), seed=7, messages=60000, sessions=8, per_packet="1-12",
                              payload="0-200", malformed_rate=0.05, filtered_rate=0.02, vlan_rate=0.2,
                              ipv6_rate=0.2, heartbeat_every=20, end_session=True)
    d = deploy("pcap", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY, no_huge=no_huge)
    run_to_end(d)
    out = d.check(manifest)
    assert "PASS" in out
    stats = load_json(d.dataplane_stats)
    assert stats["identity_holds"] is True
    man = load_json(manifest)
    assert stats["total"]["dead_letter_packets"] == man["expected"]["dead_letter_packets"] > 100
    if no_huge:
        assert "--no-huge" in d.output("dataplane")


def test_ring_full_drops_are_counted_whole_and_the_identity_still_holds(deploy, tmp_path):
    """With no consumer and policy drop, a small ring overflows: every drop is counted."""
    pcap, manifest = gen_pcap(str(tmp_path), seed=3, messages=50000, sessions=2, malformed_rate=0.01)
    body = BODY.replace("ring size 4M", "ring size 256K").replace("backpressure", "drop") \
               .replace("drain-timeout 20s", "drain-timeout 1s")
    d = deploy("full", f"--vdev=net_pcap0,rx_pcap={pcap}", body)
    dp = d.start_dataplane("--stop-when-idle", "1")
    # what the rings hold stays in their files (hugetlbfs or /dev/shm) for the next weir-control: exit 0
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert "for the next weir-control to drain" in d.output("dataplane")
    t = load_json(d.dataplane_stats)["total"]
    man = load_json(manifest)["expected"]
    assert t["rx_packets"] == man["rx_packets"]
    assert t["ring_full_packets"] > 0
    assert t["accepted_packets"] + t["ring_full_packets"] == man["accepted_packets"]
    assert t["event_records"] + t["ring_full_messages"] == man["event_records"]
    assert t["dead_letter_records"] + t["dead_letter_not_kept"] == t["dead_letter_packets"]
    assert t["rx_packets"] == (t["accepted_packets"] + t["filtered_packets"] + t["dead_letter_packets"]
                               + t["ring_full_packets"])
    assert "not drained" in d.output("dataplane")


def test_sigterm_stops_rx_waits_for_the_drain_and_exits_cleanly(deploy, tmp_path):
    pcap, manifest = gen_pcap(str(tmp_path), seed=5, messages=20000)
    d = deploy("term", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane()  # no idle stop: runs until told
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    import time
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(os.path.join(d.log_dir, "itch")):
        time.sleep(0.05)
    time.sleep(1.0)
    dp.send_signal(signal.SIGTERM)
    assert dp.wait(timeout=30) == 0, d.output("dataplane")
    assert cp.wait(timeout=30) == 0, d.output("control")  # SIGTERM, not stop()'s SIGINT
    out = d.output("dataplane")
    assert "stopping RX" in out and "every ring drained" in out
    d.check(manifest)


def test_config_errors_name_file_line_and_token_and_start_nothing(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("set corelist 1\n# fine so far\nport config all rxq two\n"
                   "decoder moldudp64 udp-port 26400 topic itch\nlog dir /tmp/x\n")
    r = subprocess.run([DATAPLANE, "-f", str(bad)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert f"{bad}:3: rxq \"two\" is not valid: give an integer from 1 to 64" in r.stderr
    assert "EAL" not in r.stdout + r.stderr  # rejected before any DPDK set-up
    r = subprocess.run([DATAPLANE, "--check", str(bad)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{bad}:3:" in r.stderr


def test_every_shipped_pmd_config_is_valid(tmp_path):
    cfg_dir = os.path.join(os.path.dirname(DATAPLANE), "..", "..", "pmd-config")
    env = dict(os.environ, WEIR_PCAP="/tmp/x.pcap", WEIR_LOG_DIR=str(tmp_path), WEIR_PREFIX="check",
               WEIR_EAL_MEM="-m 512", WEIR_IFACE="veth0", WEIR_PCI="0000:01:00.0")
    files = sorted(f for f in os.listdir(cfg_dir) if f.endswith(".conf"))
    assert files
    for f in files:
        r = subprocess.run([DATAPLANE, "--check", os.path.join(cfg_dir, f)], capture_output=True, text=True,
                           env=env, timeout=30)
        assert r.returncode == 0, f + ": " + r.stderr


SEQ_BODY = BODY.replace("ring size 4M", "ring size 8M") + """
sequence sources 1024
sequence gaps 1048576
sequence gap-timeout 600s
"""


@pytest.mark.parametrize("loss", [0.001, 0.01, 0.1])
def test_loss_duplicates_and_reordering_are_classified_and_every_hole_has_a_loss_record(deploy, tmp_path, loss):
    pcap, manifest = gen_pcap(str(tmp_path), seed=int(loss * 1000) + 1, messages=100000, sessions=8,
                              per_packet="1-8", loss=loss, burst_loss=2, duplicate=0.01, reorder=0.02,
                              reorder_distance=20, delay=0.002, delay_ms=2, heartbeat_every=25,
                              end_session=True, malformed_rate=0.005)
    d = deploy("seq", f"--vdev=net_pcap0,rx_pcap={pcap}", SEQ_BODY)
    run_to_end(d)
    out = d.check(manifest)
    assert "PASS" in out, out
    t = load_json(d.dataplane_stats)["total"]
    man = load_json(manifest)["expected"]
    assert t["gap_events_lost"] == man["gap_events_lost"] > 0
    assert t["seq_duplicates"] == man["seq_duplicates"] > 0
    assert t["seq_late_fills"] == man["seq_late_fills"] > 0
    assert load_json(manifest)["faults"]["delayed_packets"] > 0
    # The loss report the dataplane leaves beside the log, source by source.
    report = {r["source"]: r for r in load_json(os.path.join(d.log_dir, "loss-report.json"))["sources"]}
    sessions = load_json(manifest)["sessions"]
    assert sorted(report) == sorted(s["session"] for s in sessions)
    for s in sessions:
        r = report[s["session"]]
        assert r["lost"] == sum(hi - lo + 1 for lo, hi in s["lost"]), s["session"]
        assert r["last_seq"] == s["seen_next"] - 1
        assert r["state"] == "closed" and r["open_gaps"] == 0
        assert r["events"] == s["received"]
        assert 0 < r["first_seen_ns"] <= r["last_seen_ns"]
    assert sum(r["gaps_opened"] for r in report.values()) == man["gaps_opened"]
    assert sum(r["duplicates"] for r in report.values()) == man["seq_duplicates"]


def test_weir_frames_are_decoded_routed_by_topic_tracked_and_timed(deploy, tmp_path):
    pcap, manifest = gen_pcap(str(tmp_path), seed=31, messages=40000, sessions=5, framing="weir", frame_topics=3,
                              udp_port=27000, malformed_rate=0.03, loss=0.01, duplicate=0.01, reorder=0.02,
                              heartbeat_every=15, end_session=True, vlan_rate=0.1, ipv6_rate=0.1)
    body = SEQ_BODY.replace("decoder moldudp64 udp-port 26400 topic itch",
                            "decoder moldudp64 udp-port 26400 topic itch\n"
                            "decoder weirframe udp-port 27000 topic frames\n"
                            "frame-topic 1 t1\nframe-topic 2 t2\nframe-topic 3 t3")
    d = deploy("frame", f"--vdev=net_pcap0,rx_pcap={pcap}", body)
    run_to_end(d)
    out = d.check(manifest)
    assert "PASS" in out, out
    man = load_json(manifest)
    assert man["expected"]["dead_letter"]["frame_unknown_topic"] > 0
    events = d.log_records("event")
    by_topic = {}
    for r in events:
        by_topic[r["topic"]] = by_topic.get(r["topic"], 0) + 1
    assert by_topic == {"frames": man["topic_events"]["0"], "t1": man["topic_events"]["1"],
                        "t2": man["topic_events"]["2"], "t3": man["topic_events"]["3"]}
    assert all(r["source"].startswith("wf:") and r["event_time_ns"] > 0 for r in events)
    assert all(r["rx_ns"] >= r["event_time_ns"] for r in events)
    report = load_json(os.path.join(d.log_dir, "loss-report.json"))["sources"]
    assert len(report) == 5 and all(r["lateness_max_ns"] >= r["lateness_mean_ns"] > 0 for r in report)


@pytest.mark.parametrize("loss", [0.0, 0.01])
def test_reorder_window_puts_reordered_events_back_in_sequence_order(deploy, tmp_path, loss):
    pcap, manifest = gen_pcap(str(tmp_path), seed=41, messages=60000, sessions=6, loss=loss, duplicate=0.01,
                              reorder=0.05, reorder_distance=12, heartbeat_every=25, end_session=True)
    d = deploy("reorder", f"--vdev=net_pcap0,rx_pcap={pcap}",
               SEQ_BODY + "sequence reorder-window 256 30s\nsequence reorder-slots 8192\n")
    run_to_end(d)
    out = d.check(manifest)
    assert "PASS" in out, out
    t = load_json(d.dataplane_stats)["total"]
    assert t["reorder_held"] > 0 and t["reorder_holding"] == 0 and t["reorder_pool_full"] == 0
    if loss == 0:
        # Every session's events leave in sequence order, though the wire reordered them.
        last = {}
        for r in d.log_records("event"):
            assert r["seq"] > last.get(r["source"], -1), r
            last[r["source"]] = r["seq"]
        assert t["seq_late_fills"] > 0 and t["reorder_released_by_bound"] == 0
    else:
        # weir-check holds each source's events and LOSS records in order: it fails on this log with one event
        # moved after a LOSS record of a higher number of its source (as stops wrote them before 38582ee)
        recs = d.log_records()
        i = next(i for i, r in enumerate(recs) if r["kind"] == "loss")
        j = next(j for j in range(i - 1, -1, -1) if recs[j]["kind"] == "event" and
                 recs[j]["source"] == recs[i]["source"] and recs[j]["seq"] < recs[i]["seq"] and
                 "late" not in recs[j]["flags"])
        path = str(tmp_path / "moved.jsonl")
        with open(path, "w") as f:
            for r in recs[:j] + recs[j + 1:i + 1] + [recs[j]] + recs[i + 1:]:
                f.write(json.dumps(r) + "\n")
        bad = subprocess.run([CHECK, "--manifest", manifest, "--jsonl", path], capture_output=True, text=True)
        assert bad.returncode != 0 and "events after a LOSS record of a higher number" in bad.stdout, bad.stdout


def test_rss_none_gives_each_queue_of_a_device_to_its_own_worker(deploy, tmp_path):
    """net_pcap has no RSS: with "rss udp" weir falls back to one queue.  With
    "rss none" the operator says the device keeps each source on one queue
    (here, one capture a queue): both queues are used, one worker each, and
    each worker's counters are exactly its capture's manifest.  The second
    capture numbers its sessions after the first's (weir-gen --first-session):
    the log holds each worker's sessions, and no other, under their own names."""
    caps = [gen_pcap(str(tmp_path), name=f"q{q}", seed=11 + q, messages=20000, sessions=3, per_packet="1-4",
                     malformed_rate=0.02, end_session=True, first_session=3 * q) for q in (0, 1)]
    body = BODY.replace("set corelist 1", "set corelist 0,1").replace("rxq 1", "rxq 2") \
        + "port config all rss none\n"
    eal = f"--vdev=net_pcap0,rx_pcap={caps[0][0]},rx_pcap={caps[1][0]} --lcores=2@0,0@0,1@1 --main-lcore=2"
    d = deploy("rssnone", eal, body)
    run_to_end(d)
    assert "2 RX queues without RSS" in d.output("dataplane")
    stats = load_json(d.dataplane_stats)
    assert stats["identity_holds"] is True
    for q, (_, manifest) in enumerate(caps):
        want, got = load_json(manifest)["expected"], stats["workers"][q]
        for k in ("rx_packets", "accepted_packets", "dead_letter_packets", "event_records", "end_of_session"):
            assert got[k] == want[k], (q, k, got[k], want[k])
        assert got["rx_packets"] > 1000
    ctl = load_json(os.path.join(d.dir, "control.json"))
    t = stats["total"]
    assert sum(v["records_appended"] for v in ctl["topics"].values()) == \
        t["event_records"] + t["end_of_session"] + t["dead_letter_records"] + t["loss_records"]
    logged = {}
    for r in d.log_records("event"):
        logged[r["source"]] = logged.get(r["source"], 0) + 1
    want = {x["session"]: x["received"] for _, m in caps for x in load_json(m)["sessions"]}
    assert sorted(want) == [f"S{i:04d}" for i in range(6)]
    assert logged == want


def test_rss_none_refuses_more_workers_than_the_device_has_queues(deploy, tmp_path):
    pcap, _ = gen_pcap(str(tmp_path), seed=3, messages=100)
    body = BODY.replace("set corelist 1", "set corelist 0,1").replace("rxq 1", "rxq 2") + "port config all rss none\n"
    d = deploy("rssfew", f"--vdev=net_pcap0,rx_pcap={pcap} --lcores=2@0,0@0,1@1 --main-lcore=2", body)
    dp = d.start_dataplane()
    assert dp.wait(timeout=60) != 0
    assert "has 1 RX queues, not the 2" in d.output("dataplane")


def test_a_pool_a_fraction_of_the_capture_gets_every_mbuf_back(deploy, tmp_path):
    """The worker gives a burst's mbufs straight back to their pool when each is plain
    (dataplane/weir_mbuf_free.h): with the smallest pool weir takes (1,023 mbufs, 256 of them in
    each lcore's cache) and 40 times as many packets, one mbuf kept or given back twice would
    starve net_pcap (it drops what it has no mbuf for) or break the pool: the manifest says which."""
    pcap, manifest = gen_pcap(str(tmp_path), seed=11, messages=40000, sessions=4, per_packet="1",
                              malformed_rate=0.01, vlan_rate=0.2, ipv6_rate=0.2)
    body = BODY.replace("set corelist 1", "set corelist 1\nset mbufs 1023")
    d = deploy("pool", f"--vdev=net_pcap0,rx_pcap={pcap}", body)
    run_to_end(d)
    assert "PASS" in d.check(manifest)
    t = load_json(d.dataplane_stats)["total"]
    man = load_json(manifest)["expected"]
    assert t["rx_packets"] == man["rx_packets"] > 39000
    assert load_json(d.dataplane_stats)["identity_holds"] is True
