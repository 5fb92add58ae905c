"""weirlog: read a weir log from Python, through weir's own C reader.

    import weirlog
    with weirlog.Reader("/var/lib/weir/log", "itch") as r:
        r.seek_time(weirlog.parse_time("2026-11-29T09:30:00Z"))
        for e in r:                      # to the committed end
            print(e.offset, e.source, e.seq, e.payload)
        for e in r.follow(idle_s=5):     # then new entries as they are committed
            ...

An entry's lost_before says how many offsets right before it the log states
lost (a damaged stretch weir-read --salvage cut out): the reader goes over
them, as weir-read does, and says so there.

Entries are read only as far as the topic's committed point, so nothing a
script was given is ever taken back by the writer's recovery.  The reader
library (libweirlog.so, built beside this file) does the decoding, CRC checks,
index use and retention handling; docs/formats.md describes the files.
"""
import ctypes
import ctypes.util
import datetime
import os
import time
from typing import Iterator, NamedTuple, Optional

ENTRY, END, ERROR, TRUNCATED = 1, 0, -1, -2
KINDS = {1: "event", 2: "loss", 4: "end_of_session", 5: "dead_letter"}
FLAGS = {2: "late", 4: "retransmitted", 8: "truncated"}


class LogError(Exception):
    """Damage or I/O: the message says which file and what."""


class Truncated(LogError):
    """Retention deleted entries before this reader read them; it goes on at first_offset."""

    def __init__(self, msg: str, first_offset: int):
        super().__init__(msg)
        self.first_offset = first_offset


class Entry(NamedTuple):
    offset: int
    kind: str
    flags: tuple
    source: str
    source_key: bytes
    seq: int
    count: int
    rx_ns: int
    event_time_ns: int
    worker: int
    port: int
    reason: int
    rules: tuple
    payload: bytes
    lost_before: int = 0  # offsets right before this one the log states lost (weir-read --salvage): gone over


class _Item(ctypes.Structure):
    _fields_ = [("entry", ctypes.c_void_p), ("record", ctypes.c_void_p),
                ("payload", ctypes.c_void_p), ("payload_len", ctypes.c_uint32), ("lost_before", ctypes.c_uint64)]


def _load_library():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.environ.get("WEIRLOG_LIB"), os.path.join(here, "libweirlog.so"),
                 ctypes.util.find_library("weirlog")):
        if path and (os.path.exists(path) or not os.path.isabs(path)):
            lib = ctypes.CDLL(path)
            break
    else:
        raise OSError("libweirlog.so not found: build weir (meson), or set WEIRLOG_LIB")
    P, U64, I = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int
    sig = {
        "weir_log_reader_open": (I, [ctypes.POINTER(P), ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.c_size_t]),
        "weir_log_reader_close": (None, [P]),
        "weir_log_reader_seek": (I, [P, U64]),
        "weir_log_reader_seek_time": (I, [P, U64, I]),
        "weir_log_reader_seek_source": (I, [P, ctypes.c_char_p, U64]),
        "weir_log_reader_next": (I, [P, ctypes.POINTER(_Item)]),
        "weir_log_reader_wait": (I, [P, I]),
        "weir_log_reader_position": (U64, [P]),
        "weir_log_reader_committed": (U64, [P]),
        "weir_log_reader_first": (U64, [P]),
        "weir_log_reader_error": (ctypes.c_char_p, [P]),
        "weir_log_reader_register": (I, [P, ctypes.c_char_p]),
        "weir_log_reader_mark": (I, [P, U64]),
        "weir_source_format": (None, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]),
        "weir_source_parse": (I, [ctypes.c_char_p, ctypes.c_char, ctypes.c_char_p]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


_lib = None


def _library():
    global _lib
    if _lib is None:
        _lib = _load_library()
    return _lib


def parse_time(text: str) -> int:
    """ISO 8601 (UTC unless it says otherwise) or ns since the epoch, as ns."""
    if text.isdigit():
        return int(text)
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def source_keys(name: str):
    """The 16-byte keys a printed source name may stand for (space or NUL padded sessions)."""
    lib, keys = _library(), []
    for pad in (b" ", b"\0"):
        buf = ctypes.create_string_buffer(16)
        if lib.weir_source_parse(name.encode(), pad, buf) != 0:
            raise ValueError(f"{name!r} is no source name: a MoldUDP64 session (<= 10 bytes) or wf:ID")
        if buf.raw not in keys:
            keys.append(buf.raw)
    return keys


class Reader:
    """One topic of a log directory, read while weir-control writes it."""

    def __init__(self, log_dir: str, topic: str):
        self._lib = _library()
        self._r = ctypes.c_void_p()
        err = ctypes.create_string_buffer(768)
        if self._lib.weir_log_reader_open(ctypes.byref(self._r), log_dir.encode(), topic.encode(), err,
                                          len(err)) != 0:
            raise LogError(err.value.decode(errors="replace"))
        self.topic = topic
        self._item = _Item()

    def close(self):
        if self._r:
            self._lib.weir_log_reader_close(self._r)
            self._r = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _error(self) -> str:
        return self._lib.weir_log_reader_error(self._r).decode(errors="replace")

    def _check(self, rc: int) -> int:
        if rc == TRUNCATED:
            raise Truncated(self._error(), self.position)
        if rc < 0:
            raise LogError(self._error())
        return rc

    @property
    def position(self) -> int:
        """The next entry's offset."""
        return self._lib.weir_log_reader_position(self._r)

    @property
    def committed(self) -> int:
        """One past the last committed entry."""
        return self._lib.weir_log_reader_committed(self._r)

    @property
    def first(self) -> int:
        """The first offset retention kept."""
        return self._lib.weir_log_reader_first(self._r)

    def seek(self, offset: int):
        self._check(self._lib.weir_log_reader_seek(self._r, offset))

    def seek_time(self, ns: int, event_time: bool = False) -> bool:
        """To the first entry at or after ns (rx time, or the framing's event time): found or not."""
        return self._check(self._lib.weir_log_reader_seek_time(self._r, ns, 1 if event_time else 0)) == 1

    def seek_source(self, source, seq: int) -> bool:
        """To the first entry of source (a name as printed, or a 16-byte key) with seq at or after seq."""
        keys = [source] if isinstance(source, bytes) else source_keys(source)
        for key in keys:
            if self._check(self._lib.weir_log_reader_seek_source(self._r, key, seq)) == 1:
                return True
        return False

    def next(self) -> Optional[Entry]:
        """The next entry, or None at the committed end."""
        rc = self._check(self._lib.weir_log_reader_next(self._r, ctypes.byref(self._item)))
        if rc == END:
            return None
        it = self._item
        e = ctypes.string_at(it.entry, 32)
        h = ctypes.string_at(it.record, 64)
        n_rules = int.from_bytes(h[10:12], "little")
        rules = ctypes.string_at(it.record + 64, 4 * n_rules) if n_rules else b""
        name = ctypes.create_string_buffer(64)
        self._lib.weir_source_format(h[16:32], name, len(name))
        flags = int.from_bytes(h[6:8], "little")
        kind = int.from_bytes(h[4:6], "little")
        return Entry(
            offset=int.from_bytes(e[0:8], "little"), kind=KINDS.get(kind, str(kind)),
            flags=tuple(v for b, v in FLAGS.items() if flags & b), source=name.value.decode(errors="replace"),
            source_key=h[16:32], seq=int.from_bytes(h[32:40], "little"), count=int.from_bytes(h[40:48], "little"),
            rx_ns=int.from_bytes(h[48:56], "little"), event_time_ns=int.from_bytes(h[56:64], "little"),
            worker=int.from_bytes(e[24:26], "little"), port=int.from_bytes(h[14:16], "little"),
            reason=int.from_bytes(h[12:14], "little"),
            rules=tuple(int.from_bytes(rules[i:i + 4], "little") for i in range(0, len(rules), 4)),
            payload=ctypes.string_at(it.payload, it.payload_len) if it.payload_len else b"",
            lost_before=it.lost_before)

    def __iter__(self) -> Iterator[Entry]:
        while (e := self.next()) is not None:
            yield e

    def wait(self, timeout_ms: int = 1000) -> bool:
        """Waits for the committed point to move: whether it did."""
        return self._check(self._lib.weir_log_reader_wait(self._r, timeout_ms)) == 1

    def follow(self, idle_s: Optional[float] = None, on_truncated=None) -> Iterator[Entry]:
        """Every entry, waiting for new ones; ends after idle_s without any (None: never).
        A truncation calls on_truncated(exc) and goes on, or raises when none is given."""
        last = time.monotonic()
        while True:
            try:
                e = self.next()
            except Truncated as t:
                if on_truncated is None:
                    raise
                on_truncated(t)
                continue
            if e is not None:
                last = time.monotonic()
                yield e
                continue
            if idle_s is not None and time.monotonic() - last > idle_s:
                return
            self.wait(200)

    def register(self, name: str):
        """Registers this reader: retention keeps what it has not marked done."""
        self._check(self._lib.weir_log_reader_register(self._r, name.encode()))

    def mark(self, offset: Optional[int] = None):
        """Everything below offset (default: what was read) is done with."""
        self._check(self._lib.weir_log_reader_mark(self._r, self.position if offset is None else offset))


def topics(log_dir: str):
    """The topics of a log directory."""
    return sorted(d for d in os.listdir(log_dir) if os.path.isdir(os.path.join(log_dir, d)) and not d.startswith("."))
