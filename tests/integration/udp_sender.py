#!/usr/bin/python3
"""A plain kernel UDP sender of MoldUDP64 traffic (run inside a test netns).

Writes a manifest in weir-gen's format for what it sent, so weir-check can
judge the log.  Malformed MoldUDP64 payloads are sent too, counted by reason.
"""
import argparse
import hashlib
import json
import random
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--port", type=int, default=26400)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=3)
    ap.add_argument("--malformed-every", type=int, default=50)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sessions = [{"session": f"K{i:03d}", "first_seq": 1, "next_seq": 1, "messages": 0,
                 "h": hashlib.sha256()} for i in range(a.sessions)]
    dead = {"mold_truncated_header": 0, "mold_truncated_block": 0, "mold_trailing_bytes": 0}
    left, packets = a.messages, 0
    while left:
        s = rnd.choice(sessions)
        n = min(left, rnd.randint(1, 6))
        body = b""
        for i in range(n):
            msg = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 80)))
            s["h"].update((s["next_seq"] + i).to_bytes(8, "big") + len(msg).to_bytes(2, "big") + msg)
            body += struct.pack(">H", len(msg)) + msg
        hdr = s["session"].ljust(10).encode() + struct.pack(">QH", s["next_seq"], n)
        sock.sendto(hdr + body, (a.to, a.port))
        packets += 1
        s["next_seq"] += n
        s["messages"] += n
        left -= n
        if packets % a.malformed_every == 0:
            kind = rnd.choice(sorted(dead))
            if kind == "mold_truncated_header":
                bad = hdr[:rnd.randint(0, 19)]
            elif kind == "mold_truncated_block":
                bad = hdr[:18] + struct.pack(">H", 1) + struct.pack(">H", 500) + b"x" * 10
            else:
                bad = hdr[:18] + struct.pack(">H", 1) + struct.pack(">H", 2) + b"ab" + b"trailing"
            sock.sendto(bad, (a.to, a.port))
            dead[kind] += 1
        if packets % 100 == 0:
            time.sleep(0.002)  # bounded pace: the af_packet ring is not a test subject here
    man = {
        "generator": "udp_sender.py",
        "packets": packets + sum(dead.values()),
        "messages": a.messages,
        "expected": {"event_records": a.messages, "end_of_session": 0, "dead_letter": dead,
                     "dead_letter_packets": sum(dead.values())},
        "sessions": [{"session": s["session"], "first_seq": 1, "next_seq": s["next_seq"],
                      "messages": s["messages"], "end_of_session": False, "sha256": s["h"].hexdigest()}
                     for s in sessions],
    }
    with open(a.manifest, "w") as f:
        json.dump(man, f)


if __name__ == "__main__":
    main()
