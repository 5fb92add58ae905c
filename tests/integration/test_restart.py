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
