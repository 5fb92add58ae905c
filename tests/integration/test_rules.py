"""Hyperscan rules on the real binaries: planted content tagged, routed, dropped and alerted exactly as the
manifest says, and live reload under traffic (a good one switches at a point, a bad one changes nothing)."""
import signal
import subprocess
import time

from weir_harness import GEN, load_json, persisted

BODY = """
set corelist 1
port config all rxq 1
ring size 1M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
topic alerts
sequence gap-timeout 600s
log fsync interval 50ms
shutdown drain-timeout 30s
"""

RULES = """# id action flags [scope] /expression/
1 alert - /#ALERT#/
2 drop - /#DROP#/
3 route:alerts - /!ROUTE!/
4 tag caseless /#tag#/
"""


def hexof(text):
    return text.encode().hex()


def test_planted_content_is_tagged_routed_dropped_and_alerted_exactly(deploy, tmp_path):
    pcap = str(tmp_path / "planted.pcap")
    manifest = str(tmp_path / "planted.json")
    subprocess.run([GEN, "pcap", "--out", pcap, "--manifest", manifest, "--seed", "17", "--messages", "50000",
                    "--sessions", "4", "--payload", "16-80", "--malformed-rate", "0.01", "--loss", "0.005",
                    "--duplicate", "0.005", "--reorder", "0.02", "--end-session", "--plant", "#ALERT#:0.04",
                    "--plant", "#DROP#:0.03:drop", "--plant", "!ROUTE!:0.05", "--plant", "#TAG#:0.06"],
                   check=True, capture_output=True)
    rules = tmp_path / "rules.txt"
    rules.write_text(RULES)
    d = deploy("rules", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY.replace("ring size 1M", "ring size 8M")
               + f"rules {rules}\n")
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0
    out = d.check(manifest)
    assert "PASS" in out, out
    man = load_json(manifest)
    planted = man["planted"]
    events = d.log_records("event")
    with_rule = {i: [r for r in events if i in r["rules"]] for i in (1, 2, 3, 4)}
    assert len(with_rule[1]) == planted["#ALERT#"] > 0
    assert all(hexof("#ALERT#") in r["payload_hex"] for r in with_rule[1])
    assert with_rule[2] == []
    assert len(with_rule[3]) == planted["!ROUTE!"] > 0 and all(r["topic"] == "alerts" for r in with_rule[3])
    assert sum(r["topic"] == "alerts" for r in events) == planted["!ROUTE!"]
    assert len(with_rule[4]) == planted["#TAG#"] > 0  # caseless
    t = load_json(d.dataplane_stats)["total"]
    assert t["rule_drops"] == planted["#DROP#"] == man["expected"]["rule_drops"]
    # late fills a drop rule took: counted late by the dataplane, never flagged in the log (weir-check's PASS)
    assert 0 < man["expected"]["rule_dropped_late_fills"] < t["seq_late_fills"] == man["expected"]["seq_late_fills"]
    assert t["rule_alerts"] == planted["#ALERT#"]
    assert t["rule_routed"] == planted["!ROUTE!"]
    assert t["rule_scan_errors"] == 0 and t["rules_generation"] == 1
    assert "rules generation 1: 4 rules" in d.output("dataplane")


def test_reload_under_traffic_switches_at_a_point_and_a_bad_reload_keeps_the_old_set(deploy, tmp_path):
    pcap, manifest = str(tmp_path / "t.pcap"), str(tmp_path / "t.json")
    subprocess.run([GEN, "pcap", "--out", pcap, "--manifest", manifest, "--seed", "23", "--messages", "300000",
                    "--sessions", "4", "--payload", "16-64", "--end-session", "--plant", "#TAG#:0.05",
                    "--plant", "#NEW#:0.05"], check=True, capture_output=True)
    rules = tmp_path / "rules.txt"
    rules.write_text("4 tag - /#TAG#/\n")
    body = BODY.replace("log fsync interval 50ms", "log fsync batch")  # a setting is given once
    d = deploy("reload", f"--vdev=net_pcap0,rx_pcap={pcap}", body + f"rules {rules}\n")
    dp = d.start_dataplane("--stop-when-idle", "2")
    d.wait_running()
    # A slow drain (fsync every 32 records) paces the capture through a small ring: seconds of traffic.
    cp = d.start_control("--exit-when-done", "--batch-records", "32")
    total = load_json(manifest)["expected"]["event_records"]
    at = []
    for step, text in enumerate(["4 tag - /#TAG#/\n5 tag - /#NEW#/\n", "4 tag - /#TAG#/\n9 tag - /(unclosed/\n"]):
        deadline = time.time() + 60
        while persisted(d.log_dir) < (step + 1) * total // 4 and time.time() < deadline:
            time.sleep(0.02)
        rules.write_text(text)
        at.append(persisted(d.log_dir))  # before the signal: the drain may finish in the pause below
        dp.send_signal(signal.SIGHUP)
        time.sleep(0.5)
    assert at[-1] < total, f"the traffic ended before the reloads: {at} of {total}"
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0
    assert "PASS" in d.check(manifest)  # nothing lost or repeated across the reloads
    out = d.output("dataplane")
    assert "rules generation 2 in force: 2 rules" in out
    assert "rules reload rejected, generation 2 keeps running" in out and "rule 9 does not compile" in out
    assert load_json(d.dataplane_stats)["total"]["rules_generation"] == 2
    # Behaviour changes at one point in the stream: no #NEW# event before it carries rule 5, none after lacks it.
    new_events = [r for r in d.log_records("event") if hexof("#NEW#") in r["payload_hex"]]
    tagged = [5 in r["rules"] for r in new_events]
    switch = tagged.index(True)
    assert 0 < switch < len(tagged) and all(tagged[switch:]) and not any(tagged[:switch])
    # The bad file changed nothing: rule 4 kept tagging to the end.
    assert all(4 in r["rules"] for r in d.log_records("event") if hexof("#TAG#") in r["payload_hex"])


def test_dataplane_refuses_to_start_on_a_rules_file_that_does_not_compile(deploy, tmp_path):
    rules = tmp_path / "bad.txt"
    rules.write_text("1 tag - /ok/\n2 tag - /a{5,3}/\n")
    d = deploy("badrules", "--vdev=net_null0", BODY + f"rules {rules}\n")
    dp = d.start_dataplane()
    assert dp.wait(timeout=60) == 2
    assert f"{rules}:2: rule 2 does not compile" in d.output("dataplane")


def test_check_validates_the_rules_file_too(tmp_path):
    from weir_harness import DATAPLANE
    rules = tmp_path / "r.txt"
    rules.write_text("1 shout - /x/\n")
    conf = tmp_path / "c.conf"
    conf.write_text(f"set corelist 1\ndecoder moldudp64 udp-port 1 topic a\nlog dir /tmp/x\nrules {rules}\n")
    r = subprocess.run([DATAPLANE, "--check", str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{rules}:1: unknown action \"shout\"" in r.stderr
    rules.write_text("1 tag - /x/\n")
    assert subprocess.run([DATAPLANE, "--check", str(conf)], capture_output=True, timeout=30).returncode == 0


def test_weir_gen_rules_writes_a_file_weir_loads_the_same_for_a_seed_and_refuses_a_bad_count(tmp_path):
    from weir_harness import DATAPLANE
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        subprocess.run([GEN, "rules", "--count", "1000", "--seed", seed, "--out", str(path)], check=True)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    lines = a.read_text().splitlines()
    assert len(lines) == 1000 and lines[0].startswith("1 ") and lines[-1].startswith("1000 ")
    conf = tmp_path / "c.conf"
    conf.write_text(f"set corelist 1\ndecoder moldudp64 udp-port 1 topic a\nlog dir /tmp/x\nrules {a}\n")
    r = subprocess.run([DATAPLANE, "--check", str(conf)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for bad in (["--count", "0"], ["--count", "4097"], ["--count", "x"], ["--shape", "1"]):
        r = subprocess.run([GEN, "rules"] + bad, capture_output=True, text=True)
        assert r.returncode == 2 and "weir-gen rules:" in r.stderr, bad
