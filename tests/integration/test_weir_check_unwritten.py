"""weir-check --unwritten-at-end N: the last dataplane's stop said its reorder window held N events it found
no ring room for (weir-control hung past drain-timeout).  Exactly N missing passes; one more or one fewer,
or a repeat beside them, fails (the explorer passes the dataplane's own figure: seed 1148786317)."""
import json
import subprocess

from weir_harness import CHECK, GEN


def records(tmp_path, seqs):
    path = tmp_path / "log.jsonl"
    with open(path, "w") as f:
        for i, seq in enumerate(seqs):
            f.write(json.dumps({"topic": "itch", "offset": i, "kind": "event", "flags": [], "source": "S0000",
                                "seq": seq, "count": 0, "port": 0, "worker": 0, "rx_ns": 1, "event_time_ns": 0,
                                "rules": [], "payload_hex": "00"}) + "\n")
    return str(path)


def check(tmp_path, seqs, *extra):
    manifest = tmp_path / "feed.json"
    if not manifest.exists():
        subprocess.run([GEN, "pcap", "--out", str(tmp_path / "feed.pcap"), "--manifest", str(manifest),
                        "--messages", "50", "--sessions", "1", "--seed", "1"], check=True, capture_output=True)
    return subprocess.run([CHECK, "--manifest", str(manifest), "--jsonl", records(tmp_path, seqs), "--quiet",
                           *extra], capture_output=True, text=True)


def test_exactly_the_events_the_last_stop_said_it_held_may_be_missing(tmp_path):
    kept = list(range(1, 48))  # 48..50 held at the stop
    ok = check(tmp_path, kept, "--unwritten-at-end", "3")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for n in ("2", "4"):
        off = check(tmp_path, kept, "--unwritten-at-end", n)
        assert off.returncode == 1 and "events the last stop held and could not write: got 3" in off.stdout
    unsaid = check(tmp_path, kept)
    assert unsaid.returncode == 1 and "47 events, 0 repeated, expected 50" in unsaid.stdout
    repeated = check(tmp_path, kept + [5], "--unwritten-at-end", "3")
    assert repeated.returncode == 1 and "1 repeated" in repeated.stdout
