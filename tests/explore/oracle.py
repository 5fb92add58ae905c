"""What must hold after a schedule, whatever happened, checked against oracles weir does not write where
there are some (the generator's manifest, a brute-force pass over the log):
every event once in the log or stated, no offset reused, the committed point never going back, seeks
landing where a brute-force pass does, each dataplane run's accounting identity, a second weir-control refused, each
event's rules as Python's re finds them, and damage refused by name (a reader never crashes on it) or, for an index,
never trusted."""
import glob
import json
import os
import random
import re
import struct
import subprocess
import sys

import pcap_edit
from runner import export_topics, weirlog
from weir_harness import CHECK, READ, kafka_console_agrees

PROBE = """import sys
sys.path.insert(0, sys.argv[1])
import weirlog
with weirlog.Reader(sys.argv[2], sys.argv[3]) as r:
    for e in r:
        pass
"""


def check_cmd(schedule, seen, log_dir, manifest):
    """weir-check as the run allows: its counters when one dataplane ran on the capture as written;
    --replayed after a restart (the capture came again), --reordered after the explorer's edits."""
    cmd = [CHECK, "--manifest", manifest, "--log", log_dir, "--quiet"]
    single = len(seen["dp_runs"]) == 1
    if single and not schedule["edits"]:
        cmd += ["--dataplane-stats", seen["dp_runs"][0]]
    if not single:
        cmd.append("--replayed")
    if schedule["edits"]:
        cmd.append("--reordered")
    held = last_stop_held(seen)
    if held:
        cmd += ["--unwritten-at-end", str(held)]
    if seen["stopped_early"]:
        cmd += ["--stopped-early", not_yet_received(seen["stopped_early"], os.path.dirname(manifest),
                                                    schedule["feed"].get("frame_topics", 0), seen.get("captures"))]
    return cmd


def last_stop_held(seen):
    """What the reorder window of the last dataplane still held when its stop found no ring room (weir-control
    hung past drain-timeout: the explorer's stop_control can outlast it): it says so, and a next run would take
    those sources up from below them; this one has none.  Seen once in CI (seed 1148786317); since input keeps
    the stop's reserve (weir_pipeline_stop_reserve) only where what is held outgrows a quarter of the ring."""
    runs = [p for p in seen["dp_runs"] if os.path.exists(p)]
    return json.load(open(runs[-1]))["total"].get("reorder_holding", 0) if runs else 0


def ones_sum(b):
    """The ones'-complement sum of b's 16-bit words (0xFFFF over bytes that hold their checksum)."""
    b = bytes(b) + b"\0" * (len(b) % 2)
    s = sum(struct.unpack(f">{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def udp_payload(data):
    """The UDP payload of a whole, well-formed UDP frame over IPv4 or IPv6, with or without an 802.1Q tag
    (checksums right, lengths in the frame, not a fragment), else None: weir-gen's malformed packets name a
    session's next numbers, never its events."""
    l3 = 18 if data[12:14] == b"\x81\x00" else 14
    kind = data[l3 - 2:l3]
    if kind == b"\x86\xdd" and len(data) >= l3 + 48 and data[l3 + 6] == 17:  # no extension headers here
        ip, plen = data[l3:l3 + 40], struct.unpack_from(">H", data, l3 + 4)[0]
        udp, pseudo_addrs = data[l3 + 40:l3 + 40 + plen], ip[8:40]
        if l3 + 40 + plen > len(data):
            return None
    elif kind == b"\x08\x00" and len(data) >= l3 + 28 and data[l3] >> 4 == 4:
        ihl, total = (data[l3] & 0x0F) * 4, struct.unpack_from(">H", data, l3 + 2)[0]
        ip = data[l3:l3 + ihl]
        if ihl < 20 or total < ihl + 8 or l3 + total > len(data) or ones_sum(ip) != 0xFFFF or ip[9] != 17 \
                or struct.unpack_from(">H", ip, 6)[0] & 0x3FFF:
            return None
        udp, pseudo_addrs = data[l3 + ihl:l3 + total], ip[12:20]
    else:
        return None
    if len(udp) < 8:
        return None
    ulen, csum = struct.unpack_from(">H", udp, 4)[0], struct.unpack_from(">H", udp, 6)[0]
    if ulen < 8 or ulen > len(udp) or (csum == 0 and kind == b"\x86\xdd"):
        return None
    if csum and ones_sum(pseudo_addrs + struct.pack(">HH", 17, ulen) + udp[:ulen]) != 0xFFFF:
        return None
    return udp[8:ulen]


def capture_events(data, frame_topics=0):
    """(session, seqs) of the events a whole MoldUDP64 packet or weir frame in IPv4/UDP carries, else None
    (a weir frame's source named as weir-gen's manifest names it, wf:ID; its events' topics 0 to
    frame_topics, the ones the run maps)."""
    p = udp_payload(data)
    if p is None:
        return None
    if p[:4] == b"WEIR":
        if len(p) < 24 or p[4] != 1 or p[5] & 0xFE:
            return None
        count, source_id, seq = struct.unpack_from(">HQQ", p, 6)
        at, whole = 24, count and not p[5]
        for _ in range(count if whole else 0):
            length, topic = struct.unpack_from(">HH", p, at) if at + 12 <= len(p) else (0, -1)
            whole = whole and 0 <= topic <= frame_topics
            at += 12 + length
        return (f"wf:{source_id}", range(seq, seq + count)) if whole and at == len(p) else None
    if len(p) < 20:
        return None
    seq, count = struct.unpack_from(">QH", p, 10)
    if count in (0, 0xFFFF):  # a heartbeat, an end of session
        return None
    at = 20
    for _ in range(count):
        if at + 2 > len(p):
            return None
        at += 2 + struct.unpack_from(">H", p, at)[0]
    return (p[:10].decode("ascii", "replace").rstrip(), range(seq, seq + count)) if at == len(p) else None


def not_yet_received(stopped_runs, work, frame_topics=0, captures_of=None):
    """Writes, for weir-check --stopped-early, the events each stopped run had not taken in: what the
    capture carries only after the packets it took in (net_pcap replays it from the start, in order),
    taken from the capture itself, not from weir.  A worker took in its packets up to the one its stop
    refused ring room (stop_refused_at_rx, its place among them): that one and every one after it were
    never tracked, so on A and B lines a refused packet that was the other line's fill of a gap one
    line's loss had opened before it leaves that gap stated lost, and weir did not keep the event.
    Worker q's capture is its RX queue's, whose order it takes in: the run's in captures_of (the queues
    can swap between runs), else feed.pcap (q 0) or feedQ.pcap."""
    captures = {}
    early = {}
    for path in stopped_runs:
        run = json.load(open(path))
        for q, worker in enumerate(run["workers"]):
            name = (captures_of or {}).get(path, [])[q:q + 1] or ["feed.pcap" if q == 0 else f"feed{q}.pcap"]
            name = name[0]
            if name not in captures:
                _, recs = pcap_edit.read_pcap(os.path.join(work, name))
                captures[name] = [capture_events(data, frame_topics) for _, data in recs]
            events = captures[name]
            taken = worker["rx_packets"]
            if worker["stop_refused_at_rx"]:
                taken = worker["stop_refused_at_rx"] - 1
            got = {}
            for e in events[:taken]:
                if e:
                    got.setdefault(e[0], set()).update(e[1])
            for e in events[taken:]:
                if e:
                    early.setdefault(e[0], set()).update(set(e[1]) - got.get(e[0], set()))
    out = os.path.join(work, "stopped-early.json")
    with open(out, "w") as f:
        json.dump({"not_received": {s: sorted(v) for s, v in early.items()}}, f)
    return out


def run_checks(schedule, seen, log_dir, manifest):
    """The promise after the live part: a list of broken ones (empty: it held)."""
    bad = []
    v = subprocess.run([READ, "--verify", log_dir], capture_output=True, text=True, timeout=300)
    if v.returncode != 0:
        bad.append(f"weir-read --verify exited {v.returncode}: {(v.stdout + v.stderr)[-600:]}")
    c = subprocess.run(check_cmd(schedule, seen, log_dir, manifest), capture_output=True, text=True, timeout=600)
    if c.returncode != 0:
        bad.append(f"weir-check exited {c.returncode}: {(c.stdout + c.stderr)[-900:]}")
    bad += check_runs(schedule, seen)
    bad += seeks_agree(log_dir, schedule["seed"])
    bad += rules_agree(schedule, log_dir)
    bad += kafka_agrees(schedule, seen, log_dir, manifest)
    return bad


def kafka_agrees(schedule, seen, log_dir, manifest):
    """What weir-export left in Kafka, read back by Kafka's own console consumer (each record of each
    exported log topic once, in log order) and, where every event is itch's, by weir-check (librdkafka,
    read_committed, against the manifest and the log)."""
    if not schedule.get("export"):
        return []
    topics = export_topics(schedule)
    if len(topics) == 1:
        _, events, loss = topics[0]
        cmd = check_cmd(schedule, seen, log_dir, manifest) + ["--kafka", seen["kafka"], events,
                                                               "--kafka-loss-topic", loss]
        c = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if c.returncode != 0:
            return [f"weir-check of Kafka exited {c.returncode}: {(c.stdout + c.stderr)[-900:]}"]
    for log_topic, events, loss in topics:
        if not os.path.isfile(os.path.join(log_dir, log_topic, "committed")):
            continue  # a route no event took: no log topic, nothing shipped
        try:
            kafka_console_agrees(log_dir, seen["kafka"], [events, loss], log_topic)
        except AssertionError as e:
            return [f"Kafka's console consumer, log topic {log_topic}: {str(e)[:600]}"]
    return []


def rules_matched(rules, decoder, payload, source, topic):
    """The rules an event's payload matches, in file order, by Python's re (not Hyperscan), of those whose
    scopes hold for its decoder, source and topic (before routing)."""
    out = []
    for r in rules:
        if r.get("decoder", decoder) != decoder or r.get("source", source) != source or \
                r.get("topic", topic) != topic:
            continue
        if re.search(r["expr"].encode(), payload, re.IGNORECASE if r["flags"] == "caseless" else 0):
            out.append(r)
    return out


def rules_agree(schedule, log_dir):
    """Each event in the log carries the rules Python's re says its payload matches (up to 8, in file
    order); it is in topic alerts exactly when a route rule matched; none a drop rule matches is there."""
    if not schedule.get("rules"):
        return []
    rules = schedule["rules"]["rules"]
    decoder = "weirframe" if schedule["feed"].get("framing") == "weir" else "moldudp64"
    bad = []
    for topic in event_topics(log_dir):
        with weirlog.Reader(log_dir, topic) as r:
            for e in r:
                if e.kind != "event":
                    continue
                # topic scopes are drawn for MoldUDP64 only, whose events are all itch's before routing
                m = rules_matched(rules, decoder, e.payload, e.source, "itch" if decoder == "moldudp64" else topic)
                want = tuple(x["id"] for x in m)[:8]
                routed = any(x["action"].startswith("route:") for x in m)
                if any(x["action"] == "drop" for x in m):
                    bad.append(f"rules: {e.source} {e.seq} (topic {topic}) matches a drop rule, yet is in the log")
                elif e.rules != want:
                    bad.append(f"rules: {e.source} {e.seq} (topic {topic}) carries rules {list(e.rules)}, "
                               f"Python's re finds {list(want)} in {e.payload!r}")
                elif routed != (topic == "alerts"):
                    bad.append(f"rules: {e.source} {e.seq} is in topic {topic}, though "
                               f"{'a' if routed else 'no'} route rule matched it")
                if len(bad) >= 3:
                    return bad
    return bad


def seek_targets(entries, rng):
    """(source key, seq) pairs: where a source's numbers went back (a late fill, a restart) its highest
    before and one past it, the places an index's rows must not understate; and any entry's own."""
    top, back = {}, []
    for e in entries:
        if e.seq < top.get(e.source_key, -1):
            back.append((e.source_key, top[e.source_key]))
        top[e.source_key] = max(top.get(e.source_key, -1), e.seq)
    picks = [rng.choice(back) for _ in range(min(20, len(back)))]
    picks = [(k, s + d) for k, s in picks for d in (0, 1)]
    return picks + [(e.source_key, e.seq + rng.choice([0, 1])) for e in rng.sample(entries, min(20, len(entries)))]


def event_topics(log_dir):
    """The topics of the log that hold sources' records (itch, weir frames' topics, a route's): not the
    dead letters."""
    if not os.path.isdir(log_dir):
        return []
    return [t for t in weirlog.topics(log_dir)
            if t != "_deadletter" and os.path.isfile(os.path.join(log_dir, t, "committed"))]


def seeks_agree(log_dir, seed):
    """Seeks by (source, seq) and by receive time on each topic as it was left agree with a brute-force
    pass."""
    for topic in event_topics(log_dir):
        bad = seeks_agree_in(log_dir, topic, seed)
        if bad:
            return bad
    return []


def seeks_agree_in(log_dir, topic, seed):
    with weirlog.Reader(log_dir, topic) as r:
        entries = list(r)
    if not entries:
        return []
    rng, by_source = random.Random(seed), {}
    for e in entries:
        by_source.setdefault(e.source_key, []).append(e)
    times = [rng.choice(entries).rx_ns + rng.choice([0, 1]) for _ in range(10)]
    with weirlog.Reader(log_dir, topic) as r:
        for key, seq in seek_targets(entries, rng):
            want = next((x for x in by_source[key] if x.seq >= seq), None)
            got = r.next() if r.seek_source(key, seq) else None
            if (got and got.offset) != (want and want.offset):
                return [f"{topic}: seek ({want.source if want else key!r}, {seq}) gave offset "
                        f"{got.offset if got else None}, a brute-force pass {want.offset if want else None}"]
        for ns in times:
            want = next((x for x in entries if x.rx_ns >= ns), None)
            got = r.next() if r.seek_time(ns) else None
            if (got and got.offset) != (want and want.offset):
                return [f"{topic}: seek to rx time {ns} gave offset {got.offset if got else None}, "
                        f"a brute-force pass {want.offset if want else None}"]
    return []


def check_runs(schedule, seen):
    bad = []
    if seen.get("dp_rc") != 0 or seen.get("cp_rc") != 0:
        bad.append(f"the last runs exited {seen.get('dp_rc')} (weir-dataplane), {seen.get('cp_rc')} (weir-control)")
    dups = 0
    for path in seen["dp_runs"]:
        if not os.path.exists(path):
            continue  # a run that was SIGKILLed writes no figures
        st = json.load(open(path))
        if st.get("identity_holds") is not True:
            bad.append(f"{os.path.basename(path)}: the accounting identity does not hold")
        dups += st["total"].get("seq_duplicates", 0)
    if schedule["feed"].get("lines") and len(seen["dp_runs"]) == 1 and dups:
        bad.append(f"A/B lines with no repeats in the feed, yet {dups} events counted as duplicates")
    if seen["committed_back"]:
        bad.append(f"a committed point went back: {seen['committed_back'][:3]}")
    for s in seen["second_controls"]:  # one started while the first drained must be refused, by name
        if s["first_alive"] and (s["rc"] in (0, None) or s["drained"] or not s["named"]):
            bad.append(f"a second weir-control was not refused by name: {s}")
    return bad


def sealed_segments(log_dir, topic="itch"):
    logs = sorted(glob.glob(os.path.join(log_dir, topic, "*.log")))
    return logs[:-1]


def damaged_topic(log_dir, pick):
    """The topic a damage lands in: one of those with a sealed segment, itch when none has."""
    have = [t for t in event_topics(log_dir) if sealed_segments(log_dir, t)]
    return have[(pick >> 8) % len(have)] if have else "itch"


def swap_index(log_dir, pick, topic):
    """A valid index of another segment put in place of one (an older one's over a newer one's: its
    head then says the sources' later numbers are not there): every seek into that segment must still
    agree with a brute-force pass."""
    sealed = [p for p in sealed_segments(log_dir, topic) if os.path.exists(p[:-4] + ".index")]
    if len(sealed) < 2:
        return ["(swap_index: fewer than two sealed segments; not tried)"]
    k = pick % (len(sealed) - 1)
    with open(sealed[k][:-4] + ".index", "rb") as f, open(sealed[k + 1][:-4] + ".index", "wb") as g:
        g.write(f.read())
    with weirlog.Reader(log_dir, topic) as r:
        entries = list(r)
    lo, hi = (int(os.path.basename(p)[:20]) for p in (sealed[k + 1], (sealed + [None])[k + 2] or "9" * 20))
    inside = [e for e in entries if lo <= e.offset < hi] or entries
    rng, bad = random.Random(pick), []
    with weirlog.Reader(log_dir, topic) as r:
        for _ in range(30):
            e = rng.choice(inside)
            seq = e.seq + rng.choice([0, 1])
            want = next((x for x in entries if x.source == e.source and x.seq >= seq), None)
            got = r.next() if r.seek_source(e.source, seq) else None
            if got != want:
                bad.append(f"{topic}: seek ({e.source}, {seq}) after an index swap gave offset "
                           f"{got.offset if got else None}, a brute-force pass {want.offset if want else None}")
                break
    return bad


def refused_by_name(log_dir, path, what):
    """weir-read --verify and weirlog, on a log where path was damaged: an error naming it, no crash."""
    bad = []
    v = subprocess.run([READ, "--verify", log_dir], capture_output=True, text=True, timeout=120)
    if v.returncode <= 0 or os.path.basename(path) not in v.stdout + v.stderr:
        bad.append(f"{what}: weir-read --verify exited {v.returncode} without naming {os.path.basename(path)}: "
                   f"{(v.stdout + v.stderr)[-300:]}")
    tools = os.path.dirname(READ)
    topic = os.path.basename(os.path.dirname(path))
    p = subprocess.run([sys.executable, "-c", PROBE, tools, log_dir, topic], capture_output=True, text=True,
                       timeout=120)
    if p.returncode < 0:
        bad.append(f"{what}: weirlog died of signal {-p.returncode}")
    return bad


def foreign_header(log_dir, pick, topic):
    logs = sorted(glob.glob(os.path.join(log_dir, topic, "*.log")))
    path = logs[pick % len(logs)]
    with open(path, "r+b") as f:
        f.write(b"NOTWEIR!")
    return refused_by_name(log_dir, path, "a segment with a foreign header")


def entries_of(log_dir, topic):
    with weirlog.Reader(log_dir, topic) as r:
        return {e.offset: (e.source, e.seq, e.kind, e.payload) for e in r}


def holes_of(log_dir, topic):
    path = os.path.join(log_dir, topic, "holes")
    out = set()
    for line in open(path) if os.path.exists(path) else []:
        first, last = (int(x) for x in line.split()[:2])
        out.update(range(first, last + 1))
    return out


def salvaged_exactly(log_dir, before, topic):
    """weir-read --salvage: every entry but those of the stated holes kept as it was, nothing else lost."""
    r = subprocess.run([READ, "--salvage", os.path.join(log_dir, topic)], capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        return [f"weir-read --salvage exited {r.returncode}: {(r.stdout + r.stderr)[-300:]}"]
    after, holes = entries_of(log_dir, topic), holes_of(log_dir, topic)
    gone = set(before) - set(after)
    if gone != holes or not holes:
        return [f"salvage stated {len(holes)} offsets lost, {len(gone)} are gone "
                f"(stated, not gone: {sorted(holes - gone)[:5]}; gone, not stated: {sorted(gone - holes)[:5]})"]
    changed = [o for o in after if before.get(o) != after[o]]
    return [f"salvage changed entries at offsets {changed[:5]}"] if changed else []


def flip_sealed(log_dir, pick, topic):
    """A byte a batch's CRC covers flipped in a sealed segment: refused by name, then salvaged with
    exactly the lost offsets stated."""
    before = entries_of(log_dir, topic)
    sealed = sealed_segments(log_dir, topic)
    if not sealed:
        return ["(flip_sealed: no sealed segment; not tried)"]
    path = sealed[pick % len(sealed)]
    with open(path, "rb") as f:
        blob = f.read()
    batches, pos = [], 16  # (position, length) of each batch: a flip in its padding is no damage
    while pos + 40 <= len(blob):
        n = struct.unpack_from("<I", blob, pos)[0]
        if n < 40:
            break
        batches.append((pos, n))
        pos += (n + 7) & ~7
    if not batches:
        return ["(flip_sealed: no batch found; not tried)"]
    start, n = batches[pick % len(batches)]
    at = start + 8 + pick % (n - 8)  # inside what the batch's CRC covers
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x20]))
    return (refused_by_name(log_dir, path, f"{topic}: a flipped byte at {at} of a sealed segment")
            or salvaged_exactly(log_dir, before, topic))


def stray_files(log_dir, pick, topic, check):
    """Files a topic directory should not hold (an index of no segment, a name one digit too long, a
    leftover .tmp, notes): the log reads and checks as before."""
    topic = os.path.join(log_dir, topic)
    for name, data in (("%020d.index" % (10 ** 19 + pick), b"garbage" * 9), ("%021d.log" % pick, b"WEIRLOG2" * 4),
                       ("00000000000000000000.log.tmp", b"x"), ("notes.txt", b"an operator was here\n")):
        with open(os.path.join(topic, name), "wb") as f:
            f.write(data)
    v = subprocess.run([READ, "--verify", log_dir], capture_output=True, text=True, timeout=300)
    c = subprocess.run(check, capture_output=True, text=True, timeout=600)
    bad = [] if v.returncode == 0 else [f"stray files: --verify exited {v.returncode}: {(v.stdout + v.stderr)[-300:]}"]
    return bad + ([] if c.returncode == 0 else [f"stray files: weir-check exited {c.returncode}: {c.stdout[-300:]}"])


DAMAGE = {"swap_index": swap_index, "foreign_header": foreign_header, "flip_sealed": flip_sealed}


def damage_checks(schedule, seen, log_dir, manifest):
    bad = []
    for f in schedule["faults"]:
        if f["what"] in DAMAGE:
            bad += DAMAGE[f["what"]](log_dir, f["pick"], damaged_topic(log_dir, f["pick"]))
        elif f["what"] == "stray_files":
            bad += stray_files(log_dir, f["pick"], damaged_topic(log_dir, f["pick"]),
                               check_cmd(schedule, seen, log_dir, manifest))
    return [b for b in bad if not b.startswith("(")]
