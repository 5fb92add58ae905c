"""The tree keeps its shape: one room per concept, arrows only one way,
files and functions short enough to read.  Reads the source as text."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOMS = ["base", "layout", "wire", "config", "shm", "priv", "log", "report", "http", "dataplane", "control", "export",
         "replay", "tools", "perf", "tests"]
# What each room may include from weir's other rooms (headers are found by name).
ALLOWED = {
    "base": set(),
    "layout": set(),
    "wire": {"layout", "base"},
    "config": {"layout", "base"},
    "shm": {"layout", "config", "base"},
    "priv": set(),
    "log": {"layout", "base"},
    "report": {"layout"},
    "http": {"layout"},
    "dataplane": {"layout", "wire", "config", "shm", "priv", "log", "report", "base"},  # log: the restore at start
    "control": {"layout", "config", "shm", "priv", "log", "report", "http", "base"},
    "export": {"layout", "config", "log", "http", "base"},
    "replay": {"layout", "wire", "config", "log", "http", "base"},  # config: the port file
}
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 85  # "about 80"


def sources(rooms):
    for room in rooms:
        for dirpath, _, files in os.walk(os.path.join(ROOT, room)):
            for f in files:
                if f.endswith((".c", ".h", ".cpp")):
                    yield room, os.path.join(dirpath, f)


def header_rooms():
    where = {}
    for room, path in sources(ROOMS):
        if path.endswith(".h") and room not in ("tests", "perf"):
            where[os.path.basename(path)] = room
    return where


def test_no_include_reaches_a_room_it_may_not_depend_on():
    where = header_rooms()
    bad = []
    for room, path in sources(ALLOWED):
        sub = os.path.relpath(path, os.path.join(ROOT, room))
        for inc in re.findall(r'^#include "([^"]+)"', open(path).read(), re.M):
            target = where.get(os.path.basename(inc))
            if target and target != room and target not in ALLOWED[room]:
                bad.append(f"{room}/{sub} includes {inc} from {target}/")
    assert not bad, "\n".join(bad)


def test_weir_gen_links_neither_the_pipeline_nor_hyperscan():
    build = open(os.path.join(ROOT, "tools", "meson.build")).read()
    gen = build[build.index("weir_gen = executable"):build.index("weir_read =")]
    assert "weir_pipeline" not in gen and "hyperscan" not in gen
    for _, path in sources(["tools"]):
        if "/gen/" in path:
            text = open(path).read()
            assert "weir_pipeline.h" not in text and "hs.h" not in text, path


def test_no_source_file_is_over_600_lines():
    long = [f"{os.path.relpath(p, ROOT)}: {n}" for _, p in sources(ROOMS)
            if (n := sum(1 for _ in open(p))) > MAX_FILE_LINES and "/tests/" not in p]
    assert not long, long


def functions(path):
    """(name, first line, lines) of each top-level C function: a '{' and a
    '}' alone at column 0, the name on the line with the '(' before it."""
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            j = i - 1
            while j >= 0 and "(" not in lines[j]:
                j -= 1
            name = lines[j].split("(")[0].split()[-1].lstrip("*") if j >= 0 else "?"
            k = i
            while k < len(lines) and lines[k] != "}":
                k += 1
            yield name, j + 1, k - j + 1
            i = k
        i += 1


def test_no_function_is_over_about_80_lines():
    long = [f"{os.path.relpath(p, ROOT)}:{line} {name}: {n} lines"
            for room, p in sources(ALLOWED.keys() | {"tools"}) if p.endswith(".c")
            for name, line, n in functions(p) if n > MAX_FUNCTION_LINES]
    assert not long, "\n".join(long)


def test_the_version_has_one_home():
    hits = [p for _, p in sources(ROOMS) if re.search(r"#define WEIR_VERSION\b", open(p).read())]
    assert not hits, hits
    assert re.search(r"version : '[0-9.]+'", open(os.path.join(ROOT, "meson.build")).read())


# log/ in two floors: an on-disk layer that knows no appender and no reader, and above it the appender
# and the readers, each using the layer below and never each other (issue 22).
LOG_FLOORS = {
    "disk": {"codec", "batch", "segment", "index", "index_check", "checkpoint", "file", "lock", "retained"},
    "appender": {"topic", "commit", "writer", "recovery"},
    "readers": {"reader", "reader_find", "reader_mark", "retention", "salvage", "view"},
}
LOG_MAY_USE = {"disk": {"disk"}, "appender": {"appender", "disk"}, "readers": {"readers", "disk"}}
LOG_PRIVATE_HEADERS = {"weir_log_pvt.h": "appender", "weir_log_reader_pvt.h": "readers",
                       "weir_log_reader.h": "readers"}


def log_floor_of(path):
    name = os.path.basename(path)
    if not (name.startswith("weir_log_") and name.endswith(".c")):
        return None
    unit = name[len("weir_log_"):-2]
    return next((f for f, units in LOG_FLOORS.items() if unit in units), "unplaced")


def log_definitions():
    """floor -> the functions its files define (a name at the start of a line, then its arguments)"""
    defs = {f: set() for f in LOG_FLOORS}
    for _, path in sources(["log"]):
        floor = log_floor_of(path)
        if floor in defs:
            defs[floor] |= set(re.findall(r"^(\w+)\(", open(path).read(), re.M))
    return defs


def test_every_log_file_has_a_floor():
    unplaced = [p for _, p in sources(["log"]) if log_floor_of(p) == "unplaced"]
    assert not unplaced, f"put these in LOG_FLOORS: {unplaced}"


def test_log_floors_only_look_down_and_the_upper_halves_never_at_each_other():
    defs, bad = log_definitions(), []
    for _, path in sources(["log"]):
        floor = log_floor_of(path)
        if floor not in LOG_FLOORS:
            continue
        text = open(path).read()
        for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
            owner = LOG_PRIVATE_HEADERS.get(inc)
            if owner and owner not in LOG_MAY_USE[floor]:
                bad.append(f"{os.path.basename(path)} ({floor}) includes {inc} ({owner})")
        called = set(re.findall(r"\b(\w+)\s*\(", text))
        for other, names in defs.items():
            if other not in LOG_MAY_USE[floor]:
                for name in sorted(called & names):
                    bad.append(f"{os.path.basename(path)} ({floor}) calls {name} ({other})")
    assert not bad, "\n".join(bad)


IDENTITY_COUNTERS = ("rx_packets", "accepted_packets", "filtered_packets", "filtered_not_joined",
                     "filtered_wrong_source", "filtered_unauthorized_address", "filtered_unauthorized_source",
                     "dead_letter_packets", "ring_full_packets", "dead_letter")


def test_a_packets_disposition_is_counted_in_one_place():
    """The packet identity's counters move only in weir_disposition.h: a stage says what became of a packet
    and never counts it itself, so no path can count a packet twice or not at all."""
    bump = re.compile(r"(?:\.|->)(%s)\b(?:\[[^\]]*\])?\s*(?:\+\+|\+=|-=|=(?!=))" % "|".join(IDENTITY_COUNTERS))
    bad = []
    for room, path in sources(["dataplane", "wire"]):
        if os.path.basename(path) == "weir_disposition.h":
            continue
        for n, line in enumerate(open(path), 1):
            if bump.search(line):
                bad.append(f"{os.path.relpath(path, ROOT)}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)
