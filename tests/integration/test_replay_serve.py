"""weir-replay serve: MoldUDP64 re-requests answered from the log.  A client over kernel sockets gets the log's
events for what it asks, nothing for what the log says was lost, and every refusal is counted (promtool reads the
figures); a second weir on a veth, fed log A again through a lossy hop, re-requests its gaps from a server on
log A and ends with log A's events and log A's losses, no more; a request ahead of a log still being written is
answered when the log gets there."""
import contextlib
import os
import shutil
import socket
import subprocess
import time

import pytest

from replay_logs import BODY, events, keyed_by_sender, log_a, lost, read_topic, run_to_end  # noqa: F401 (a fixture)
from weir_harness import REPLAY, Deployment, free_port, gen_pcap, http_get, load_json, veth_pair

HERE = os.path.dirname(os.path.abspath(__file__))


def request(session, first, count):
    return session[:10].ljust(10, b" ") + first.to_bytes(8, "big") + count.to_bytes(2, "big")


def answers(sock, wait=0.5):
    """Every MoldUDP64 answer until wait seconds pass with none: {seq: payload}, the packets, and when the
    first came (time.monotonic(), or None)."""
    got, packets, first_at = {}, 0, None
    sock.settimeout(wait)
    while True:
        try:
            data = sock.recv(65535)
        except socket.timeout:
            return got, packets, first_at
        packets += 1
        first_at = first_at or time.monotonic()
        seq, count, at = int.from_bytes(data[10:18], "big"), int.from_bytes(data[18:20], "big"), 20
        for i in range(count):
            n = int.from_bytes(data[at:at + 2], "big")
            got[seq + i] = data[at + 2:at + 2 + n]
            at += 2 + n


@pytest.fixture
def procs():
    """Every process a test starts, ended by pid if the test did not end it: a failing test leaks none."""
    started = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def start_server(procs, log, topic, listen, *more, ns=None):
    cmd = [REPLAY, "serve", "--topic", topic, "--listen", listen, *more, log]
    p = subprocess.Popen((["ip", "netns", "exec", ns] if ns else []) + cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    line = p.stdout.readline()
    assert "serving" in line, line + p.stderr.read()
    return p


def stop_server(p):
    p.send_signal(2)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, out + err
    return out


def metric(body, name):
    return int(float(next(ln.split()[1] for ln in body.splitlines() if ln.startswith(name + " "))))


def test_requests_are_answered_from_the_log_and_refusals_counted(log_a, procs):
    log, _, a = log_a
    port, mport = free_port(), free_port()
    srv = start_server(procs, log, "itch", f"127.0.0.1:{port}", "--max-count", "50", "--rate", "20", "--burst", "10",
                       "--metrics", f"127.0.0.1:{mport}")
    try:
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind(("127.0.0.1", 0))
        hole = next(e for e in a if e.kind == "loss")
        key, first, count = hole.source_key, max(1, hole.seq - 5), hole.count + 10
        want = {e.seq: e.payload for e in a if e.kind == "event" and e.source_key == key and first <= e.seq < first + count}
        c.sendto(request(key, first, count), ("127.0.0.1", port))
        got = answers(c)[0]
        assert got == want and len(want) == count - hole.count  # the hole's numbers are not sent
        c.sendto(request(key, first, 60000), ("127.0.0.1", port))  # capped at 50
        got = answers(c)[0]
        assert len(got) <= 50 and max(got) < first + 50
        for bad in (request(b"NOSUCHSESS", 1, 5), request(key, 1, 0), request(key, 1, 0xFFFF), b"short"):
            c.sendto(bad, ("127.0.0.1", port))
        assert answers(c)[1] == 0
        # A flood from one requester: its own bucket runs dry, another requester is still served.
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(200):
            flood.sendto(request(key, first, 1), ("127.0.0.1", port))
        one = min(want)
        c.sendto(request(key, one, 1), ("127.0.0.1", port))
        assert answers(c)[0] == {one: want[one]}
        status, body = http_get(f"http://127.0.0.1:{mport}/metrics")  # promtool checks it on the way
        assert status == 200, body
        assert metric(body, "weir_replay_serve_refused_unknown_total") == 1
        assert metric(body, "weir_replay_serve_refused_count_total") == 2
        assert metric(body, "weir_replay_serve_refused_malformed_total") == 1
        assert metric(body, "weir_replay_serve_capped_total") == 1
        assert 150 <= metric(body, "weir_replay_serve_refused_rate_total") <= 195
        assert metric(body, "weir_replay_serve_events_lost_total") >= hole.count
        assert metric(body, "weir_replay_serve_log_end_offset") == a[-1].offset + 1  # what it answers from
        # Log A is one segment, the newest: its requests were read from the follower's points.
        assert metric(body, "weir_replay_serve_hinted_total") >= 3
    finally:
        out = stop_server(srv)
    assert "unknown session" in out and " 0 events unsent" in out
    # Answers within a 128-byte MTU (100 bytes of UDP payload): an event above 78 bytes fits none; counted.
    small = start_server(procs, log, "itch", f"127.0.0.1:{port}", "--mtu", "128")
    big = [e for e in a if e.kind == "event" and len(e.payload) > 78][0]
    c.sendto(request(big.source_key, big.seq, 1), ("127.0.0.1", port))
    assert answers(c)[1] == 0
    assert " 1 events unsent" in stop_server(small)


def test_requests_over_ipv6_are_answered_over_ipv6(log_a, procs):
    """A dataplane re-requests over IPv6 where its feed is IPv6 (docs/feeds.md): serve listens on [::1] and
    answers to the requester's IPv6 address, inside an IPv6 MTU (48 bytes of headers, not 28)."""
    log, _, a = log_a
    port = free_port()
    srv = start_server(procs, log, "itch", f"[::1]:{port}", "--mtu", "1280")
    try:
        c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        c.bind(("::1", 0))
        key = next(e for e in a if e.kind == "event").source_key
        want = {e.seq: e.payload for e in a if e.kind == "event" and e.source_key == key and 100 <= e.seq < 400}
        c.sendto(request(key, 100, 300), ("::1", port))
        got, packets, _ = answers(c)
        assert got == want and len(want) > 250 and packets > 1
        # Each answer fits 1280 - 40 - 8 bytes of UDP payload (IPv4's headers would leave 1252).
        c.sendto(request(key, 100, 300), ("::1", port))
        sizes = []
        c.settimeout(0.5)
        with contextlib.suppress(socket.timeout):
            while True:
                sizes.append(len(c.recv(65535)))
        assert len(sizes) == packets and max(sizes) <= 1232 and max(sizes) > 1232 - 130
    finally:
        out = stop_server(srv)
    assert "2 answered whole" in out, out


def test_a_log_keyed_by_sender_is_served_for_the_sender_named(tmp_path, procs):
    """sequence key source+sender: a session's key holds its sender.  A request names only the session: it is
    answered from the named sender's events (--sender), and is an unknown session without it."""
    pcap, _ = gen_pcap(str(tmp_path), seed=9, messages=3000, sessions=3, per_packet="1-4", payload="4-40")
    log, a = keyed_by_sender(tmp_path, "ks", pcap)
    ev = [e for e in a if e.kind == "event"]
    key = ev[0].source_key
    assert key[10:16] != bytes(6)  # the sender is in the key
    sender = f"{socket.inet_ntoa(key[10:14])}:{int.from_bytes(key[14:16], 'big')}"
    want = {e.seq: e.payload for e in ev if e.source_key == key and e.seq < 40}
    port = free_port()
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    plain = start_server(procs, log, "itch", f"127.0.0.1:{port}")
    c.sendto(request(key, 1, 39), ("127.0.0.1", port))
    assert answers(c)[1] == 0
    assert " 1 unknown session" in stop_server(plain)
    keyed = start_server(procs, log, "itch", f"127.0.0.1:{port}", "--sender", sender)
    c.sendto(request(key, 1, 39), ("127.0.0.1", port))
    assert answers(c)[0] == want and len(want) == 39
    stop_server(keyed)
    r = subprocess.run([REPLAY, "serve", "--topic", "itch", "--listen", f"127.0.0.1:{port}", "--sender", "nowhere",
                        "--check", log], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "--sender nowhere: not IPV4:PORT" in r.stderr


def test_a_damaged_segment_is_said_and_what_is_before_it_still_served(log_a, tmp_path, procs):
    """A byte flipped in the middle of log A's segment: the follower stops there and says so, a request for numbers
    before the damage is answered whole, one past it is counted late and the CRC mismatch said, and the server
    goes on serving."""
    log, _, a = log_a
    copy = str(tmp_path / "log")
    shutil.copytree(log, copy)
    seg = os.path.join(copy, "itch", "00000000000000000000.log")
    with open(seg, "r+b") as f:
        f.seek(os.path.getsize(seg) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    ev = [e for e in a if e.kind == "event"]
    early, late = ev[10], ev[-10]
    port = free_port()
    srv = start_server(procs, copy, "itch", f"127.0.0.1:{port}", "--deadline", "0.5")
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    c.sendto(request(late.source_key, late.seq, 1), ("127.0.0.1", port))
    assert answers(c, wait=1.5)[1] == 0
    c.sendto(request(early.source_key, early.seq, 1), ("127.0.0.1", port))
    assert answers(c)[0] == {early.seq: early.payload}
    srv.send_signal(2)
    out, err = srv.communicate(timeout=20)
    assert srv.returncode == 0 and "1 answered whole, 1 late" in out, out + err
    assert "CRC mismatch" in err and "the follower stops" in err, err


GAP_BODY = BODY.replace("decoder moldudp64 udp-port 26400 topic itch",
                        "decoder moldudp64 udp-port 26400 topic itch rerequest 198.18.7.1:26401") \
    .replace("sequence gap-timeout 300ms", "sequence gap-timeout 1500ms\nsequence rerequest-interval 40ms\n"
             "sequence rerequest-max 6\nsequence rerequest-max-count 200")


def test_a_second_weir_fills_its_gaps_from_a_server_on_the_first_ones_log(deploy, tmp_path, log_a, procs):
    log, _, a = log_a
    with veth_pair(False) as (ns, iface):
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)  # the lossy hop listens on it
        d = deploy("gapfill", f"--vdev=net_af_packet0,iface={iface},qpairs=1", GAP_BODY)
        d.start_dataplane()
        d.wait_running()
        cp = d.start_control("--exit-when-done")
        srv = start_server(procs, log, "itch", "198.18.7.1:26401", "--rate", "10000", "--burst", "1000", ns=ns)
        relay = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", os.path.join(HERE, "lossy_relay.py"),
                                  "--listen", "127.0.0.1:26499", "--to", "198.18.7.2:26400", "--drop", "0.03",
                                  "--seed", "5", "--idle", "2"], stdout=subprocess.PIPE, text=True)
        procs.append(relay)
        assert relay.stdout.readline().strip() == "listening"
        ev = [e for e in a if e.kind == "event"]
        span = ev[-1].rx_ns - ev[0].rx_ns  # of the events: LOSS records come a gap timeout later
        sender = subprocess.Popen(["ip", "netns", "exec", ns, REPLAY, "send", "--quiet", "--topic", "itch", "--to",
                                   "127.0.0.1:26499", "--speed", f"{span / 6e9:.9f}", log],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(sender)
        # While the feed runs: a request ahead of log B, answered once B gets there.
        follow_port = free_port()
        key = a[-1].source_key
        tail = [e for e in ev if e.source_key == key][-20:]
        # A session the log has seen (one it never saw is refused), asked for where B is not yet.
        while not os.path.isdir(os.path.join(d.log_dir, "itch")) or \
                not any(e.source_key == key for e in read_topic(d.log_dir)):
            assert sender.poll() is None, "the feed ended before the request was made"
            time.sleep(0.05)
        follower = start_server(procs, d.log_dir, "itch", f"127.0.0.1:{follow_port}", "--deadline", "30")
        had = {e.seq for e in read_topic(d.log_dir) if e.source_key == key}
        assert not had & {e.seq for e in tail}, "log B had them already: the feed ran too fast for the test"
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.sendto(request(key, tail[0].seq, 20), ("127.0.0.1", follow_port))
        t0 = time.monotonic()
        got, _, first_at = answers(c, wait=20)
        waited = (first_at or t0) - t0
        want = {e.seq: e.payload for e in a if e.kind == "event" and e.source_key == key
                and tail[0].seq <= e.seq < tail[0].seq + 20}
        assert got == want, (len(got), len(want), stop_server(follower))
        sent = sender.communicate(timeout=120)
        assert sender.returncode == 0, sent
        assert "forwarded" in relay.communicate(timeout=30)[0]
        deadline = time.time() + 30  # every gap recovered or timed out
        while time.time() < deadline and sum(events(read_topic(d.log_dir)).values()) < sum(events(a).values()):
            time.sleep(0.5)
        time.sleep(2.5)  # the last gaps the log says lost time out in B too
        d.stop(cp)
        served = stop_server(srv)
        followed = stop_server(follower)
    b = read_topic(d.log_dir)
    assert events(b) == events(a) and max(events(b).values()) == 1
    assert lost(b) == lost(a)
    t = load_json(d.dataplane_stats)["total"]
    assert t["rerequests_sent"] > 0 and t["gap_events_recovered"] > 0, t
    assert any("retransmitted" in e.flags for e in b if e.kind == "event")
    assert " 0 late" in followed and "1 answered whole" in followed, followed
    print(f"gap fill: {t['gap_events_recovered']} recovered; server: {served.strip()}; "
          f"the request ahead of log B waited {waited:.2f} s")


def test_a_source_a_rule_routed_in_part_is_served_from_every_topic_named(tmp_path, procs):
    """A route rule took some of each source's events to topic alerts.  A server of itch alone answers a range
    over them without them, late (it waits for numbers its topic never gets); one of itch,alerts answers it
    whole at once, each number from the topic that holds it; a session neither topic saw is still refused."""
    pcap, _ = gen_pcap(str(tmp_path), seed=29, messages=20000, sessions=3, per_packet="1-4", payload="8-40",
                       plant="!ROUTE!:0.05")
    rules = tmp_path / "rules.txt"
    rules.write_text("3 route:alerts - /!ROUTE!/\n")
    d = Deployment(str(tmp_path), "routed", f"--vdev=net_pcap0,rx_pcap={pcap}",
                   BODY + f"topic alerts\nrules {rules}\n")
    try:
        run_to_end(d)
        itch, alerts = read_topic(d.log_dir), read_topic(d.log_dir, "alerts")
    finally:
        d.close()
    routed = [e for e in alerts if e.kind == "event"]
    assert routed and all(b"!ROUTE!" in e.payload for e in routed)
    key, mid = routed[len(routed) // 2].source_key, routed[len(routed) // 2].seq
    first = max(1, mid - 30)
    want = {e.seq: e.payload for e in itch + alerts
            if e.kind == "event" and e.source_key == key and first <= e.seq < first + 60}
    in_itch = {q: p for q, p in want.items() if b"!ROUTE!" not in p}
    assert len(in_itch) < len(want) == 60, (len(in_itch), len(want))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    one, both = free_port(), free_port()
    srv = start_server(procs, d.log_dir, "itch", f"127.0.0.1:{one}", "--deadline", "0.5")
    c.sendto(request(key, first, 60), ("127.0.0.1", one))
    assert answers(c, wait=2)[0] == in_itch
    out = stop_server(srv)
    assert "0 answered whole, 1 late" in out, out
    srv = start_server(procs, d.log_dir, "itch,alerts", f"127.0.0.1:{both}", "--deadline", "30")
    c.sendto(request(key, first, 60), ("127.0.0.1", both))
    t0 = time.monotonic()
    got, _, first_at = answers(c, wait=2)
    assert got == want and first_at - t0 < 5
    c.sendto(request(b"NOSUCH", 1, 5), ("127.0.0.1", both))
    assert answers(c, wait=1)[0] == {}
    out = stop_server(srv)
    assert "2 requests: 1 answered whole, 0 late" in out and "1 unknown session" in out, out
