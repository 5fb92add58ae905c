"""weir-read's seeks and formats, and the Python module, on a log weir wrote: each answer is the one
a brute-force pass over the whole topic gives."""
import json
import os
import random
import struct
import subprocess

from weir_harness import READ, gen_pcap, weirlog

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync interval 50ms
log segment-size 512K
shutdown drain-timeout 20s
"""


def read(d, *args, fmt="jsonl"):
    r = subprocess.run([READ, "--topic", "itch", "--format", fmt, *args, d.log_dir], capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode()


def test_weir_read_and_weirlog_seek_as_a_brute_force_pass_finds(deploy, tmp_path):
    pcap, manifest = gen_pcap(str(tmp_path), seed=31, messages=80000, sessions=5, per_packet="1-4",
                              loss=0.01)
    d = deploy("read", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")

    with weirlog.Reader(d.log_dir, "itch") as r:
        entries = list(r)
        assert [e.offset for e in entries] == list(range(len(entries))) and r.committed == len(entries)
    assert any(e.kind == "loss" for e in entries)
    rng = random.Random(5)
    with weirlog.Reader(d.log_dir, "itch") as r:
        for _ in range(40):
            e = rng.choice(entries)
            # by time
            want = next(x for x in entries if x.rx_ns >= e.rx_ns)
            assert r.seek_time(e.rx_ns) and r.next() == want
            rc, out, _ = read(d, "--from-time", str(e.rx_ns), "--count", "1")
            assert rc == 0 and json.loads(out)["offset"] == want.offset
            # by (source, seq), from a seq that may fall in a gap
            seq = e.seq + rng.choice([0, 1])
            want = next((x for x in entries if x.source == e.source and x.seq >= seq), None)
            found = r.seek_source(e.source, seq)
            assert (r.next() if found else None) == want
            rc, out, err = read(d, "--source", e.source, "--from-seq", str(seq), "--count", "1")
            assert (rc, json.loads(out)["offset"] if out else None) == ((0, want.offset) if want else (4, None)), err
            # by offset, a few entries
            rc, out, _ = read(d, "--from", str(e.offset), "--count", "3")
            assert [json.loads(x)["offset"] for x in out.splitlines()] == list(range(e.offset, e.offset + 3))[
                :len(entries) - e.offset]
    # raw: each record as committed, its header, rule ids and payload
    rc, out, _ = read(d, "--from", "100", "--count", "50", fmt="raw")
    at = 0
    for want in entries[100:150]:
        length, kind = struct.unpack_from("<IH", out, at)
        n_rules = struct.unpack_from("<H", out, at + 10)[0]
        assert kind == {"event": 1, "loss": 2, "end_of_session": 4}[want.kind]
        assert out[at + 64 + 4 * n_rules:at + length] == want.payload
        at += length
    assert at == len(out)
    # time in ISO 8601, and the exit codes
    rc, _, err = read(d, "--from-time", "2000-01-01T00:00:00Z", "--count", "1")
    assert rc == 0
    rc, _, err = read(d, "--from-time", "2999-01-01T00:00:00.5Z")
    assert rc == 4 and "no entry matches" in err
    rc, _, err = read(d, "--from-time", "yesterday")
    assert rc == 2 and "ISO 8601" in err
    rc, _, err = read(d, "--source", "NOSUCHSRC", "--from-seq", "1")
    assert rc == 4


def test_verify_refuses_what_is_not_a_log_and_a_topic_that_lost_its_first_segment(deploy, tmp_path):
    """A directory with no topic in it is an error, not a silent 'ok'; sealed segments' indexes damaged or
    missing are named (the log itself is whole); a first segment deleted with no retention to say so is
    damage (exit 1, CORRUPT), not truncation."""
    empty = tmp_path / "not-a-log"
    (empty / "lost+found").mkdir(parents=True)
    r = subprocess.run([READ, "--verify", str(empty)], capture_output=True, text=True)
    assert r.returncode == 1 and "not a weir log" in r.stderr, (r.returncode, r.stdout, r.stderr)
    pcap, _ = gen_pcap(str(tmp_path), seed=7, messages=60000, sessions=3)
    d = deploy("lost", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY.replace("512K", "64K"))
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
    r = subprocess.run([READ, "--verify", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 0 and "itch" in r.stdout and "index" not in r.stdout, r.stdout + r.stderr
    # Indexes of sealed segments, one with a byte flipped, one gone: the log is whole (exit 0, ok), and
    # both are named, not passed over.
    topic = os.path.join(d.log_dir, "itch")
    segs = sorted(f for f in os.listdir(topic) if f.endswith(".log"))
    assert len(segs) >= 3, segs
    flipped, gone = (os.path.join(topic, segs[k].replace(".log", ".index")) for k in (1, 0))
    with open(flipped, "r+b") as f:
        f.seek(os.path.getsize(flipped) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x10]))
    os.unlink(gone)
    r = subprocess.run([READ, "--verify", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 0 and ": ok" in r.stdout, r.stdout + r.stderr
    assert "2 indexes of sealed segments missing or damaged" in r.stdout, r.stdout
    assert os.path.basename(flipped) in r.stderr and os.path.basename(gone) + ": missing" in r.stderr, r.stderr
    os.unlink(os.path.join(d.log_dir, "itch", "%020d.log" % 0))
    r = subprocess.run([READ, "--verify", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 1 and "CORRUPT" in r.stdout and "are missing" in r.stderr, r.stdout + r.stderr
