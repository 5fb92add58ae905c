"""A live follower of the log (weir-read --follow, registered) against weir-control killed and restarted,
segments rolling and retention deleting them behind it: every record exactly once, in offset order."""
import json
import os
import signal
import subprocess
import time

from weir_harness import CHECK, READ, committed, gen_pcap, load_json, weirlog

BODY = """
set corelist 1
port config all rxq 1
ring size 512K
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync batch
log segment-size 1M
log retention size 3M
shutdown drain-timeout 60s
"""


def test_a_follower_started_before_ingest_reads_every_record_once_across_kills_rolls_and_retention(deploy, tmp_path):
    pcap, manifest = gen_pcap(str(tmp_path), seed=23, messages=250000, sessions=6, malformed_rate=0)
    total = load_json(manifest)["messages"]
    d = deploy("follow", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    os.makedirs(os.path.join(d.log_dir, "itch"))  # where the follower waits; weir-control writes into it
    out_path = os.path.join(d.dir, "follower.jsonl")
    follower = subprocess.Popen([READ, "--topic", "itch", "--follow", "--register", "follower", "--format", "jsonl",
                                 d.log_dir], stdout=open(out_path, "w"), stderr=open(out_path + ".err", "w"))
    d.procs.append(follower)
    deadline = time.time() + 10
    while not os.path.exists(os.path.join(d.log_dir, "itch", "readers", "follower")) and time.time() < deadline:
        time.sleep(0.05)
    assert follower.poll() is None, open(out_path + ".err").read()

    dp = d.start_dataplane("--stop-when-idle", "3")
    d.wait_running()
    seen = []
    for kill in range(5):
        cp = d.start_control("--batch-records", "256", tag=f"control{kill}")
        target = (kill + 1) * total // 7
        deadline = time.time() + 60
        while committed(d.log_dir, "itch") < target and time.time() < deadline and cp.poll() is None:
            time.sleep(0.01)
        cp.send_signal(signal.SIGKILL)
        cp.wait()
        seen.append(committed(d.log_dir, "itch"))
    assert seen[-1] < total, f"the drain finished before the last kill: {seen}"
    cp = d.start_control("--exit-when-done", tag="final")
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("final")

    end = committed(d.log_dir, "itch")
    deadline = time.time() + 60
    lines = 0
    while time.time() < deadline:
        with open(out_path) as f:
            lines = sum(1 for _ in f)
        if lines >= end:
            break
        time.sleep(0.1)
    follower.send_signal(signal.SIGTERM)
    assert follower.wait(timeout=10) == 0, open(out_path + ".err").read()
    err = open(out_path + ".err").read()
    assert "truncated" not in err, err

    offsets = [json.loads(line)["offset"] for line in open(out_path)]
    assert offsets == list(range(end)), f"{len(offsets)} lines for {end} offsets"
    # Retention deleted what the follower had passed: the first segments are gone.
    with weirlog.Reader(d.log_dir, "itch") as r:
        assert r.first > 0, "retention deleted nothing"
    rolled = sorted(os.listdir(os.path.join(d.log_dir, "itch")))
    print(f"kills at {seen} of {total}; follower read {end} records; kept {rolled}")
    # And what it read is what was sent: every event once, byte for byte, the LOSS records right.
    r = subprocess.run([CHECK, "--manifest", manifest, "--jsonl", out_path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
