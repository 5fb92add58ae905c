"""A damaged log is the operator's to see, never cut quietly: weir-control
refuses the topic, weir-read --salvage keeps every good batch and states the
rest lost, and no offset is handed out twice."""
import glob
import os
import re
import subprocess

from weir_harness import READ, gen_pcap, load_json, weirlog

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync batch
shutdown drain-timeout 2s
"""


def verify(log_dir):
    r = subprocess.run([READ, "--verify", log_dir], capture_output=True, text=True)
    line = next(l for l in r.stdout.splitlines() if l.startswith("itch: ") and " records" in l)
    return r.returncode, int(re.search(r"next offset (\d+)", line).group(1)), r.stdout + r.stderr


def run_once(d, tag):
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done", tag=tag)
    return dp, cp


def test_damage_before_the_committed_point_is_refused_then_salvaged_without_reusing_an_offset(deploy, tmp_path):
    pcap, manifest = gen_pcap(str(tmp_path), seed=3, messages=60000, sessions=2)
    d = deploy("damage", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp, cp = run_once(d, "first")
    assert dp.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("first")
    rc, committed, _ = verify(d.log_dir)
    assert rc == 0 and committed == load_json(manifest)["expected"]["event_records"]
    segment = sorted(glob.glob(os.path.join(d.log_dir, "itch", "*.log")))[-1]
    size = os.path.getsize(segment)
    with open(segment, "r+b") as f:  # one flipped byte, a third of the way in
        f.seek(size // 3)
        b = f.read(1)
        f.seek(size // 3)
        f.write(bytes([b[0] ^ 0x40]))

    dp, cp = run_once(d, "refused")
    assert cp.wait(timeout=60) != 0
    out = d.output("refused")
    assert "before the committed point" in out and f"weir-read --salvage {d.log_dir}/itch" in out, out
    # nobody drained this run: its rings stay in their files for the next weir-control (exit 0)
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert os.path.getsize(segment) == size  # nothing cut

    r = subprocess.run([READ, "--salvage", os.path.join(d.log_dir, "itch")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "lost in 1 hole" in r.stdout and f"next offset {committed}" in r.stdout, r.stdout
    first, last = re.search(r"\(offsets (\d+)-(\d+)\)", r.stdout).groups()
    # a reader going over the hole says so where it is, in any format, and still exits 0 (it is stated)
    for fmt in ("text", "jsonl"):
        r = subprocess.run([READ, "--topic", "itch", "--format", fmt, d.log_dir], capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr.count(f"offsets {first} to {last} are stated lost") == 1, r.stderr
    with weirlog.Reader(d.log_dir, "itch") as rd:  # and from Python: on the entry after the hole, only there
        said = [(e.offset, e.lost_before) for e in rd if e.lost_before]
    assert said == [(int(last) + 1, int(last) - int(first) + 1)], said

    # the salvaged topic is taken again: first what the refused run left in its rings, then a new run
    cp = d.start_control("--exit-when-done", tag="leftover")
    assert cp.wait(timeout=60) == 0, d.output("leftover")
    dp, cp = run_once(d, "after")
    assert dp.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("after")
    rc, next_offset, text = verify(d.log_dir)
    assert rc == 0, text  # the hole is stated, not a verify failure
    assert "lost, stated in" in text
    offsets = [r["offset"] for r in d.log_records() if r["topic"] == "itch"]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert next_offset > committed and max(offsets) == next_offset - 1
    assert min(o for o in offsets if o >= committed) == committed  # the new run starts where the old ended
