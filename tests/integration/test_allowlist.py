"""Who may feed a decoder: packets from addresses not on its allowlist, or of sessions not on its list,
are filtered as unauthorized by reason (kept as dead letters when asked), and never reach the source
table; a 1,000-entry list from a file lets its feed through whole."""
import os

from weir_harness import gen_pcap, load_json

BODY = """
set corelist 1
port config all rxq 1
ring size 8M
decoder moldudp64 udp-port 26400 topic itch {opts}
log fsync interval 50ms
shutdown drain-timeout 20s
"""


def run(deploy, tmp_path, name, opts, **gen):
    pcap, manifest = gen_pcap(str(tmp_path), seed=8, messages=20000, sessions=4, end_session=True, **gen)
    d = deploy(name, f"--vdev=net_pcap0,rx_pcap={pcap}", BODY.format(opts=opts))
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    st = load_json(d.dataplane_stats)
    assert st["identity_holds"] is True
    return d, st["total"], load_json(manifest), manifest


def big_list(path, extra):
    """1,000 networks that are not the feed's, and extra among them."""
    with open(path, "w") as f:
        f.write("# an operator's allowlist\n")
        for i in range(999):
            f.write(f"10.{i // 250}.{i % 250}.0/24\n")
            if i == 500:
                f.write(f"{extra}  # the feed\n")
    return path


def test_a_feed_from_an_address_not_on_the_list_is_filtered_and_never_tracked(deploy, tmp_path):
    allow = big_list(str(tmp_path / "allow.txt"), "192.0.2.0/24")
    d, t, man, _ = run(deploy, tmp_path, "deny", f"allow @{allow} unauthorized keep")
    data = man["expected"]["accepted_packets"]
    assert t["filtered_unauthorized_address"] == data and t["filtered_packets"] == data, t
    assert t["event_records"] == 0 and t["sources"] == 0, t  # never reached the source table
    kept = [r for r in d.log_records("dead_letter") if r["reason"] == "unauthorized_address"]
    assert len(kept) == data
    assert t["dead_letter_packets"] == 0  # kept for inspection, counted as filtered


def test_a_thousand_entry_list_from_a_file_lets_its_feed_through_whole(deploy, tmp_path):
    allow = big_list(str(tmp_path / "allow.txt"), "198.18.0.0/24")  # weir-gen's sender is 198.18.0.1
    d, t, man, manifest = run(deploy, tmp_path, "allow", f"allow @{allow}")
    assert t["filtered_unauthorized_address"] == 0, t
    assert "PASS" in d.check(manifest)
    assert "takes only the addresses of @" in d.output("dataplane")


def test_sessions_not_on_the_list_are_filtered_by_their_own_reason(deploy, tmp_path):
    d, t, man, _ = run(deploy, tmp_path, "srcs", "allow 198.18.0.1,2001:db8::/32 sources S0000,S0002")
    per = {s["session"]: s["received"] for s in man["sessions"]}
    kept = {r["source"] for r in d.log_records("event")}
    assert kept == {"S0000", "S0002"}, kept
    assert t["event_records"] == per["S0000"] + per["S0002"]
    assert t["filtered_unauthorized_source"] > 0 and t["filtered_unauthorized_address"] == 0, t
    assert t["sources"] == 2, t


def test_a_list_of_everyone_lets_the_feed_through(deploy, tmp_path):
    """/0 goes into the tables as two halves (they take depths from 1): weir-gen's 198.18.0.1 is in the upper
    one, so a list that lost it would filter the whole feed."""
    d, t, man, manifest = run(deploy, tmp_path, "all", "allow 0.0.0.0/0,::/0")
    assert t["filtered_unauthorized_address"] == 0, t
    assert "PASS" in d.check(manifest)
