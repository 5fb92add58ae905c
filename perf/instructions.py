#!/usr/bin/env python3
"""Instructions a unit of the pipeline's key stage benchmarks, counted by callgrind: the same on every run,
where this VM's timings swing 10-30% from one minute to the next.  A stage's count is its function's
inclusive instructions (everything it calls) per call, per unit (a packet of a burst of 32, a packet, an
event batch), so the benchmark's own loop and Google Benchmark's calibration runs count for nothing.

Fewer instructions are not less time (a cache miss costs none): ratios here say what a change did to the
work, the timed figures what it did to the time.  perf/ab.py prints both (--instructions).

The counts come from a build of its own, build-count/ beside build/ (set up here when missing), made for
x86-64-v3 (AVX2) where build/ is made for the machine it is on (-march=native; DPDK's own -march, corei7,
wins in the files that take DPDK's flags): valgrind (3.19) decodes no AVX-512 and stops at the first such
instruction (SIGILL), and one instruction set on every machine makes the counts the same on an AVX2 and an
AVX-512 CPU.  Under valgrind the CPU reports no AVX-512 either (__builtin_cpu_supports), so the checksum's
paths chosen at start take AVX2 or less.

  perf/instructions.py [TREE]            # default this tree (its build-count/); needs valgrind
"""
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile

COUNT_MARCH = "x86-64-v3"

# (benchmark filter, the function whose calls are counted, units a call)
FIGURES = [
    ("BM_parse/1$", "weir_parse_udp", 1),
    ("BM_pipeline_packet/1$", "weir_pipeline_packet", 1),
    ("BM_pipeline_burst/1$", "weir_pipeline_burst", 32),
    ("BM_pipeline_burst/8$", "weir_pipeline_burst", 32),
    # A feed on an A and a B line: line a alone, a packet; a then b, a pair (its second copy: pair - packet).
    ("BM_pipeline_ab_burst/0$", "bench_ab_burst", 32),
    ("BM_pipeline_ab_burst/1$", "bench_ab_burst", 16),
]

CALL = re.compile(r"c?fn=\((\d+)\)(?: (.*))?")


def per_call(path, func):
    """(calls, inclusive instructions) of every call to func (or its LTO clones, func.constprop.0 and such)
    in a callgrind output file: each call site's calls= line, and the cost line after it."""
    names, cfn, calls, incl, pending = {}, "", 0, 0, False
    for line in open(path):
        m = CALL.match(line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("cfn="):
                cfn = names.get(m.group(1), "")
            continue
        if line.startswith("calls="):
            pending = cfn == func or cfn.startswith(func + ".")
            if pending:
                calls += int(line.split("=", 1)[1].split()[0])
        elif pending:
            incl += int(line.split()[1])
            pending = False
    return calls, incl


def counting_build(tree):
    """tree's build-count/, set up for COUNT_MARCH and its bench_stages built (a lock keeps two callers from
    setting it up at once); LookupError where it cannot be (a tree from before meson's march option)."""
    build = os.path.join(tree, "build-count")
    with open(build + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(build, "build.ninja")):
            r = subprocess.run(["meson", "setup", build, "--buildtype=release", f"-Dmarch={COUNT_MARCH}",
                                "-Dtests=false"], cwd=tree, capture_output=True, text=True)
            if r.returncode != 0:
                shutil.rmtree(build, ignore_errors=True)  # half set up: the next call starts again
                raise LookupError(f"{tree}: no build for {COUNT_MARCH} could be set up: {r.stdout[-500:]}")
        r = subprocess.run(["ninja", "-C", build, "perf/bench_stages"], capture_output=True, text=True)
        if r.returncode != 0:
            raise LookupError(f"{tree}: build-count's bench_stages did not build: {r.stdout[-1500:]}")
    return build


def count(bench, regex, func, per):
    """Instructions a unit of one benchmark, under callgrind."""
    fd, path = tempfile.mkstemp(prefix="weir-callgrind.")
    os.close(fd)
    try:
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + path, bench,
                            "--benchmark_filter=" + regex, "--benchmark_min_time=0.05"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode == -4 or "unhandled instruction bytes" in r.stderr:
            raise RuntimeError(f"{bench}: valgrind cannot decode one of its instructions (AVX-512 in a "
                               f"-march=native build?): count a build made for {COUNT_MARCH} "
                               f"(counting_build)\n{r.stderr[-800:]}")
        if r.returncode != 0:
            raise RuntimeError(f"{bench} {regex} under valgrind: exit {r.returncode}\n{r.stderr[-800:]}")
        calls, incl = per_call(path, func)
    finally:
        os.unlink(path)
    if calls == 0:
        raise LookupError(f"{regex}: no call of {func} counted (not in this build, or inlined)")
    return incl / calls / per


def figures(build_dir):
    """{benchmark: instructions a unit} of one build's bench_stages; a figure it cannot count (an older
    build without the benchmark, or with the function inlined) is left out and said so."""
    bench = os.path.join(build_dir, "perf", "bench_stages")
    got = {}
    for regex, func, per in FIGURES:
        try:
            got[regex.rstrip("$")] = count(bench, regex, func, per)
        except LookupError as e:
            print(f"instructions: {build_dir}: {e}", file=sys.stderr)
    return got


def main():
    tree = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    got = figures(counting_build(tree))
    for name, n in got.items():
        print(f"{name:28s} {n:8.1f} instructions a unit")
    first, pair = got.get("BM_pipeline_ab_burst/0"), got.get("BM_pipeline_ab_burst/1")
    if first and pair:
        print(f"{'a second copy (ab/1 - ab/0)':28s} {pair - first:8.1f} instructions, "
              f"{(pair - first) / first:.2f} of a first copy")


if __name__ == "__main__":
    main()
