"""Edits of an A/B-lines capture that weir-gen does not make, each keeping its manifest true: a line's
copy is dropped only where the other line carries the same packet (so no event is lost on both), and a
line's data packets are reordered only among themselves (the events each line carries stay the same)."""
import struct

GROUPS = {bytes([239, 1, 1, 1]): "a", bytes([239, 1, 1, 2]): "b"}
HEARTBEAT, END_OF_SESSION = 0, 0xFFFF


def read_pcap(path):
    with open(path, "rb") as f:
        blob = f.read()
    recs, at = [], 24
    while at + 16 <= len(blob):
        incl = struct.unpack_from("<I", blob, at + 8)[0]
        recs.append([blob[at:at + 16], blob[at + 16:at + 16 + incl]])
        at += 16 + incl
    return blob[:24], recs


def write_pcap(path, header, recs):
    with open(path, "wb") as f:
        f.write(header)
        for hdr, data in recs:
            f.write(hdr[:8] + struct.pack("<II", len(data), len(data)) + data)


def mold(data):
    """(line, session, first seq, count) of an IPv4 MoldUDP64 packet of a line, else None."""
    if len(data) < 14 + 20 + 8 + 20 or data[12:14] != b"\x08\x00":
        return None
    line = GROUPS.get(data[30:34])
    ihl = (data[14] & 0x0F) * 4
    m = 14 + ihl + 8
    if line is None or len(data) < m + 20:
        return None
    seq, count = struct.unpack_from(">QH", data, m + 10)
    return line, data[m:m + 10], seq, count


def is_data(info):
    return info is not None and info[3] not in (HEARTBEAT, END_OF_SESSION)


def drop_where_other_has(recs, line, pick):
    """Drops the line's data packets that pick(index, info, seen_count) chooses, where the other line
    carries the same (session, seq, count)."""
    infos = [mold(d) for _, d in recs]
    other = {(i[1], i[2], i[3]) for i in infos if is_data(i) and i[0] != line}
    seen, keep = {}, []
    for rec, info in zip(recs, infos):
        if is_data(info) and info[0] == line and (info[1], info[2], info[3]) in other:
            n = seen.get(info[1], 0)
            seen[info[1]] = n + 1
            if pick(info, n):
                continue
        keep.append(rec)
    return keep


def reorder_line(recs, line, rng, rate=0.05, distance=6):
    """Swaps some of the line's data packets with one of its next few, each packet at most once (no
    chain carries one further: a line's reordering stays within what the tracker keeps, 64 numbers;
    heartbeats and ends of session keep their place)."""
    idx = [i for i, (_, d) in enumerate(recs) if mold(d) and mold(d)[0] == line]
    moved = set()
    for k, i in enumerate(idx):
        if k in moved or rng.random() >= rate or not is_data(mold(recs[i][1])):
            continue
        j = k + rng.randint(1, distance)
        if j >= len(idx) or j in moved or any(not is_data(mold(recs[idx[m]][1])) for m in range(k + 1, j + 1)):
            continue
        moved.update((k, j))
        a, b = i, idx[j]
        recs[a][1], recs[b][1] = recs[b][1], recs[a][1]


def edit(path, edits, rng):
    """Applies the named edits to the capture in place; returns how many packets each dropped."""
    header, recs = read_pcap(path)
    dropped = {}
    for e in edits:
        before = len(recs)
        if e == "drop_a_first":  # line A loses each session's first packet
            recs = drop_where_other_has(recs, "a", lambda info, n: n == 0)
        elif e == "b_late":  # line B starts late: its first packets never come
            late = rng.choice([3, 20, 100])
            recs = drop_where_other_has(recs, "b", lambda info, n: n < late)
        elif e in ("reorder_a", "reorder_b"):
            reorder_line(recs, e[-1], rng)
        dropped[e] = before - len(recs)
    write_pcap(path, header, recs)
    return dropped
