"""weir-replay on what a schedule left: the log, replayed into a pcap at full speed, must carry each of its
events once, with its bytes, in its session's log order, and nothing the log says was lost (a LOSS record is
a hole, not sent); an end of session for each the log holds; and the summary's figures must be the pcap's.
The pcap is read here, by hand (pcap records, Ethernet, IPv4, UDP, MoldUDP64), not by weir."""
import os
import re
import struct
import subprocess

from runner import weirlog
from weir_harness import REPLAY


def udp_payloads(path):
    """The UDP payloads of a pcap's IPv4 frames, in order."""
    with open(path, "rb") as f:
        data = f.read()
    at = 24  # the file header; weir-replay writes nanosecond stamps, which do not matter here
    while at + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        frame = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        if frame[12:14] == b"\x08\x00" and frame[23] == 17:
            yield frame[14 + (frame[14] & 0x0F) * 4 + 8:]


def mold(payload):
    """(session, first number, whether it ends the session, messages) of a MoldUDP64 packet, or of a weir
    frame (its source named wf:ID, as the log names it)."""
    if payload[:4] == b"WEIR":
        flags, count, source_id, seq = struct.unpack_from(">BHQQ", payload, 5)
        msgs, at = [], 24
        for _ in range(count):
            n = struct.unpack_from(">H", payload, at)[0]
            msgs.append(payload[at + 12:at + 12 + n])
            at += 12 + n
        return f"wf:{source_id}", seq, bool(flags & 1), msgs
    seq, count = struct.unpack_from(">QH", payload, 10)
    msgs, at = [], 20
    for _ in range(count if count not in (0, 0xFFFF) else 0):
        n = struct.unpack_from(">H", payload, at)[0]
        msgs.append(payload[at + 2:at + 2 + n])
        at += 2 + n
    return payload[:10], seq, count == 0xFFFF, msgs


def replay_checks(log_dir, work):
    """The broken promises of a replay of log_dir's topic (empty: they held)."""
    out = os.path.join(work, "replay.pcap")
    r = subprocess.run([REPLAY, "send", "--quiet", "--topic", "itch", "--pcap", out, "--speed", "0", log_dir],
                       capture_output=True, text=True, timeout=300)
    with weirlog.Reader(log_dir, "itch") as rd:
        entries = list(rd)
    want, ends = {}, sum(1 for e in entries if e.kind == "end_of_session")
    for e in entries:  # a session by its 10 bytes, a weir frame source by its name (its id is past them)
        if e.kind == "event":
            want.setdefault(e.source if e.source.startswith("wf:") else e.source_key[:10], []).append(
                (e.seq, e.payload))
    if r.returncode == 4 and not want and not ends:
        return []  # nothing to replay, and it says so
    if r.returncode != 0:
        return [f"weir-replay send exited {r.returncode}: {(r.stdout + r.stderr)[-600:]}"]
    sent, sent_ends, packets = {}, 0, 0
    for payload in udp_payloads(out):
        session, seq, is_end, msgs = mold(payload)
        packets += 1
        sent_ends += is_end
        sent.setdefault(session, []).extend((seq + i, m) for i, m in enumerate(msgs))
    bad = []
    for session in sorted(set(want) | set(sent), key=repr):
        w, s = want.get(session, []), sent.get(session, [])
        if w != s:
            k = next((i for i, (a, b) in enumerate(zip(w, s)) if a != b), min(len(w), len(s)))
            bad.append(f"replay: session {session!r}: the log's events and the pcap's differ at the {k}th "
                       f"(log {w[k][0] if k < len(w) else None}, pcap {s[k][0] if k < len(s) else None}; "
                       f"{len(w)} in the log, {len(s)} sent)")
            break
    if sent_ends != ends:
        bad.append(f"replay: {sent_ends} ends of session sent, the log holds {ends}")
    m = re.search(r"sent (\d+) packets, (\d+) events", r.stdout)
    events = sum(len(v) for v in want.values())
    if not m or (int(m.group(1)), int(m.group(2))) != (packets, events):
        bad.append(f"replay: the summary says {m.group(0) if m else r.stdout[-200:]!r}; the pcap has {packets} "
                   f"packets, the log {events} events")
    return bad
