"""A lossy hop for a test's feed: every UDP datagram to --listen goes on to --to, except a seeded share of them
(--drop), the feed's own loss on a wire nobody here controls.  A MoldUDP64 end of session is never dropped: with
no heartbeats, it is what tells a receiver a session's tail is missing.  Exits after --idle seconds with nothing,
printing how many it forwarded and dropped."""
import argparse
import random
import socket


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--drop", type=float, default=0.03)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--idle", type=float, default=3.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # its own drops only: forced past net.core.rmem_max (root), the buffer holds whatever a burst brings
    rx.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 32 << 20)
    rx.bind(endpoint(a.listen))
    rx.settimeout(a.idle)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = endpoint(a.to)
    print("listening", flush=True)
    forwarded = dropped = 0
    while True:
        try:
            data = rx.recv(65535)
        except socket.timeout:
            break
        if rng.random() < a.drop and data[18:20] != b"\xff\xff":
            dropped += 1
            continue
        tx.sendto(data, to)
        forwarded += 1
    print(f"forwarded {forwarded} dropped {dropped}", flush=True)


if __name__ == "__main__":
    main()
