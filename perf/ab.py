#!/usr/bin/env python3
"""A change against its own base, in one run: REV is built in a worktree beside this checkout's build/,
then the stage benchmarks and the key appliance cases run for both, taking turns (base, head, base, ...),
so that a slow spell of the shared machine falls on both.  Each figure is the median of its rounds; the
table gives head/base ratios (below 1: head is faster).  CPU time per iteration for the stages (one
pinned core), the worker's own ns per packet for the appliance.

With --instructions, each side's instructions a unit of the key stages too (perf/instructions.py,
callgrind): one run each, the same on every run, where the timed figures of a small change drown in the
VM's noise.  Those rows are named "instructions ..." and count instructions, not ns.

  scripts/perf-ab.sh REV [--rounds N] [--stages REGEX] [--cases a,b] [--no-appliance] [--instructions]
                         [--patch FILE]
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

import instructions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = "BM_parse/1$|BM_mold_decode/8|BM_seq_track/1$|BM_pipeline_packet/.*|BM_pipeline_burst/.*|" \
         "BM_pipeline_sources/(1|1000000)/.*|BM_pipeline_ab/2/1|BM_pipeline_ab_burst/.*|BM_ring_commit|BM_ring_write/(16|64)/1"
CASES = "small-1msg,small-8msg"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def build_base(rev, where, patch=None):
    """REV's tree in a worktree of its own, built as setup.sh builds (release); with patch (a file git
    applies, e.g. perf/floor.patch) applied, in a worktree apart from REV's own."""
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", rev + "^{commit}"], capture_output=True,
                         text=True)
    if sha.returncode != 0:
        raise SystemExit(f"perf-ab: {rev}: not a commit of this repository")
    sha = sha.stdout.strip()
    tree = os.path.join(where, sha[:12] + ("-" + os.path.splitext(os.path.basename(patch))[0] if patch else ""))
    if not os.path.isdir(tree):
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-f", tree, sha], check=True,
                       stdout=subprocess.DEVNULL)
    if patch:  # applied afresh: the file may have changed since the tree was made
        subprocess.run(["git", "-C", tree, "checkout", "-q", "--", "."], check=True)
        if subprocess.run(["git", "-C", tree, "apply", os.path.abspath(patch)]).returncode != 0:
            raise SystemExit(f"perf-ab: {patch} does not apply to {rev}")
    if not os.path.isdir(os.path.join(tree, "build")):
        subprocess.run(["meson", "setup", "build", "--buildtype=release"], cwd=tree, check=True,
                       stdout=subprocess.DEVNULL)
    log(f"perf-ab: building {rev} ({sha[:12]}) in {tree}")
    subprocess.run(["ninja", "-C", "build"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    return sha, tree


def stage_figures(tree, regex, out):
    """ns of CPU per iteration, by benchmark, from one pinned run."""
    path = os.path.join(out, "stages.json")
    subprocess.run(["taskset", "-c", "1", os.path.join(tree, "build/perf/bench_stages"), "--benchmark_filter=" + regex,
                    "--benchmark_min_time=0.3", "--benchmark_format=json", "--benchmark_out=" + path,
                    "--benchmark_out_format=json"], check=True, stdout=subprocess.DEVNULL, cwd=out)
    return {b["name"]: b["cpu_time"] for b in json.load(open(path))["benchmarks"] if b.get("run_type") != "aggregate"}


def appliance_figures(tree, cases, out, seconds, log_dir=None):
    """The worker's own ns per packet, by case, weir alone (the baselines do not change with weir)."""
    more = ["--log-dir", log_dir] if log_dir else []
    subprocess.run(["/usr/bin/python3", os.path.join(tree, "perf/appliance.py"), "--cases", cases, "--no-baselines",
                    "--seconds", str(seconds), "--out", out, *more], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # the same options both sides: a base may not know newer ones
    for path in glob.glob("/dev/hugepages/weir.perf-weir-*") + glob.glob("/dev/shm/weir.perf-weir-*"):
        pid = path.split("perf-weir-")[1].split(".")[0]
        if not os.path.exists(f"/proc/{pid}"):  # an older appliance.py leaves its ring files
            os.unlink(path)
    doc = json.load(open(os.path.join(out, "appliance.json")))
    return {"appliance " + r["case"]: r["weir"]["ns_per_packet"] for r in doc["results"]}


def spread(runs):
    return (max(runs) - min(runs)) / statistics.median(runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rev", help="the base: a commit, tag or branch (e.g. main, HEAD~1)")
    ap.add_argument("--rounds", type=int, default=3, help="turns each (default 3): medians of these")
    ap.add_argument("--stages", default=STAGES, help="bench_stages filter (default: the pipeline's key stages)")
    ap.add_argument("--cases", default=CASES, help="perf/appliance.py cases (default %(default)s)")
    ap.add_argument("--seconds", type=float, default=3, help="appliance measurement window (default 3)")
    ap.add_argument("--no-appliance", action="store_true", help="the stage benchmarks only")
    ap.add_argument("--instructions", action="store_true", help="and each side's instructions a unit of the key "
                    "stages (callgrind; needs valgrind)")
    ap.add_argument("--eal", default="", help="more EAL options for the appliance's weir-dataplane, both sides "
                    "(e.g. --force-max-simd-bitwidth=512)")
    ap.add_argument("--log-dir", help="the appliance's logs, both sides (perf/appliance.py --log-dir): under "
                    "/dev/shm no disk interrupt lands on the worker's core")
    ap.add_argument("--patch", help="the base is REV with this patch applied: perf/floor.patch measures weir "
                    "against its floor (HEAD as REV)")
    ap.add_argument("--out", default=os.path.join(ROOT, "out/perf-ab"))
    a = ap.parse_args()
    os.environ["WEIR_PERF_EAL"] = a.eal  # perf/appliance.py's EAL_EXTRA
    if a.rounds < 1:
        ap.error("--rounds takes 1 or more")
    os.makedirs(a.out, exist_ok=True)
    head = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                          text=True).stdout.strip()
    subprocess.run(["ninja", "-C", os.path.join(ROOT, "build")], check=True, stdout=subprocess.DEVNULL)
    sha, base_tree = build_base(a.rev, os.path.join(a.out, "trees"), a.patch)
    trees = {"base": base_tree, "head": ROOT}
    figures = {"base": {}, "head": {}}
    for rnd in range(a.rounds):
        for who in ("base", "head"):
            log(f"perf-ab: round {rnd + 1}/{a.rounds}: {who}")
            with tempfile.TemporaryDirectory(dir=a.out) as tmp:
                got = stage_figures(trees[who], a.stages, tmp)
                if not a.no_appliance:
                    got.update(appliance_figures(trees[who], a.cases, tmp, a.seconds, a.log_dir))
            for k, v in got.items():
                figures[who].setdefault(k, []).append(v)
    if a.instructions:  # deterministic: one run a side
        for who in ("base", "head"):
            log(f"perf-ab: instructions: {who}")
            try:
                build = instructions.counting_build(trees[who])
            except LookupError as e:  # REV from before meson's march option: nothing to count it by
                log(f"perf-ab: instructions: {who}: {e}")
                continue
            for k, v in instructions.figures(build).items():
                figures[who]["instructions " + k] = [v]
    rows = []
    for k in figures["head"]:
        if k in figures["base"]:
            b, h = statistics.median(figures["base"][k]), statistics.median(figures["head"][k])
            rows.append({"figure": k, "base_ns": b, "head_ns": h, "ratio": h / b,
                         "base_runs": figures["base"][k], "head_runs": figures["head"][k]})
    base = f"{a.rev} ({sha[:12]})" + (f" with {a.patch}" if a.patch else "")
    doc = {"cpu": cpu_name(), "base": base, "head": head, "rounds": a.rounds, "rows": rows}
    print(f"perf-ab on {doc['cpu']}: base {doc['base']}, head {head}, medians of {a.rounds} turns each")
    # the spread of each side's runs, (max - min) / median: a ratio inside it is not a finding
    print(f"{'figure':36s} {'base ns':>10s} {'spread':>7s} {'head ns':>10s} {'spread':>7s} {'head/base':>10s}")
    for r in rows:
        sb, sh = (spread(r["base_runs"]), spread(r["head_runs"]))
        r["spread_base"], r["spread_head"] = sb, sh
        print(f"{r['figure']:36s} {r['base_ns']:10.2f} {sb:6.0%} {r['head_ns']:10.2f} {sh:6.0%} {r['ratio']:10.3f}")
    # a figure one side has and the other has not (a benchmark added or renamed): its medians alone
    doc["only"] = {who: {k: statistics.median(v) for k, v in figures[who].items() if k not in figures[other]}
                   for who, other in (("base", "head"), ("head", "base"))}
    for who in ("base", "head"):
        for k, v in doc["only"][who].items():
            print(f"{k:36s} {who} only: {v:10.2f}")
    json.dump(doc, open(os.path.join(a.out, "ab.json"), "w"), indent=1)
    print(f"written: {a.out}/ab.json")


if __name__ == "__main__":
    main()
