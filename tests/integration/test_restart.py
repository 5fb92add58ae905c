"""A dataplane that starts again goes on where the log says each source
stood: a feed that comes back late shows its hole as a gap and a LOSS
record, one that comes back early has its overlap counted as duplicates,
not logged twice, and a session that really started again (a new name) is
a new source."""
import json
import os
import subprocess

from weir_harness import READ, gen_pcap, load_json

BODY = """
set corelist 1
port config all rxq 1
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
sequence gap-timeout 200ms
log fsync interval 20ms
"""


def run(d, pcap):
    """One dataplane run on pcap (behind the config's link), drained whole."""
    link = os.path.join(d.dir, "cur.pcap")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(pcap, link)
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    return load_json(d.dataplane_stats)["total"], d.output("dataplane")


def records(d, kind):
    out = subprocess.run([READ, "--format", "jsonl", "--topic", "itch", d.log_dir], capture_output=True, text=True,
                         check=True).stdout
    return [r for r in map(json.loads, out.splitlines()) if r["kind"] == kind]


def test_a_restarted_dataplane_goes_on_where_the_log_left_each_source(deploy, tmp_path):
    first, m1 = gen_pcap(str(tmp_path), name="first", seed=41, messages=20000, sessions=1)
    d = deploy("restart", f"--vdev=net_pcap0,rx_pcap={tmp_path}/cur.pcap", BODY)
    t, _ = run(d, first)
    end1 = load_json(m1)["sessions"][0]["next_seq"]
    assert t["event_records"] == 20000 and t["seq_sources_restored"] == 0

    # Back 5,000 sequences late: a gap, then a LOSS record, not a silent jump.
    late, _ = gen_pcap(str(tmp_path), name="late", seed=42, messages=10000, sessions=1, first_seq=end1 + 5000)
    t, out = run(d, late)
    assert "1 source restored from the log" in out
    assert t["seq_sources_restored"] == 1 and t["gaps_opened"] == 1 and t["gap_events_lost"] == 5000
    loss = records(d, "loss")
    assert [(r["seq"], r["count"]) for r in loss] == [(end1, 5000)]
    assert t["event_records"] == 10000

    # Back 3,000 sequences early: what the log holds is a duplicate.
    end2 = end1 + 5000 + 10000
    early, _ = gen_pcap(str(tmp_path), name="early", seed=43, messages=10000, sessions=1, first_seq=end2 - 3000)
    t, _ = run(d, early)
    assert t["seq_duplicates"] == 3000 and t["event_records"] == 7000 and t["gaps_opened"] == 0
    seqs = [r["seq"] for r in records(d, "event")]
    assert len(seqs) == len(set(seqs)) == 20000 + 10000 + 7000  # nothing logged twice

    # A session that ended, then started again from 1 (what MoldUDP64 allows
    # after an end of session), and a new session name: neither is a gap or
    # a duplicate.
    end3 = end2 - 3000 + 10000
    ended, _ = gen_pcap(str(tmp_path), name="ended", seed=44, messages=1000, sessions=1, first_seq=end3,
                        end_session=True)
    t, _ = run(d, ended)
    assert t["event_records"] == 1000 and t["gaps_opened"] == 0 and t["end_of_session"] == 1
    again, _ = gen_pcap(str(tmp_path), name="again", seed=45, messages=2000, sessions=2, first_seq=1)
    t, _ = run(d, again)
    assert t["session_restarts"] == 1 and t["seq_sources_restored"] == 1
    assert t["gaps_opened"] == 0 and t["seq_duplicates"] == 0 and t["event_records"] == 2000


def test_a_source_moved_to_a_lower_numbered_worker_is_restored_in_run_order(deploy, tmp_path):
    """The queues cut from two to one between runs: S0000, worker 1's in the first run, is worker 0's in the
    next ones.  It ended its session in run 1 and started it again from 1 in run 2; run 3 comes back 100
    sequences late.  Restored a worker at a time, run 1's end of session came last (worker 1 after worker 0),
    S0000 stood closed, and run 3's first packet was taken as the session starting again: 100 events lost and
    never said.  Restored in run order, the hole is a gap and a LOSS record."""
    q0, _ = gen_pcap(str(tmp_path), name="q0", seed=51, messages=300, sessions=1, first_session=1)
    q1, _ = gen_pcap(str(tmp_path), name="q1", seed=52, messages=1000, sessions=1, end_session=True)
    two = BODY.replace("set corelist 1", "set corelist 0,1").replace("rxq 1", "rxq 2") + "port config all rss none\n"
    d2 = deploy("two", f"--vdev=net_pcap0,rx_pcap={q0},rx_pcap={q1} --lcores=2@0,0@0,1@1 --main-lcore=2", two)
    dp = d2.start_dataplane("--stop-when-idle", "1")
    d2.wait_running()
    cp = d2.start_control("--exit-when-done")
    assert dp.wait(timeout=60) == 0, d2.output("dataplane")
    assert cp.wait(timeout=60) == 0, d2.output("control")
    t = load_json(d2.dataplane_stats)["total"]
    assert t["event_records"] == 1300 and t["end_of_session"] == 1

    d1 = deploy("one", f"--vdev=net_pcap0,rx_pcap={tmp_path}/cur.pcap", BODY)
    again, _ = gen_pcap(str(tmp_path), name="again", seed=53, messages=500, sessions=1, per_packet=1)
    t, _ = run(d1, again)
    assert t["session_restarts"] == 1 and t["event_records"] == 500 and t["gaps_opened"] == 0

    late, _ = gen_pcap(str(tmp_path), name="late", seed=54, messages=200, sessions=1, first_seq=601)
    t, out = run(d1, late)
    assert "2 sources restored from the log" in out, out
    assert t["session_restarts"] == 0, t
    assert t["gaps_opened"] == 1 and t["gap_events_lost"] == 100, t
    assert [(r["seq"], r["count"]) for r in records(d1, "loss") if r["source"] == "S0000"] == [(501, 100)]
    assert t["event_records"] == 200
