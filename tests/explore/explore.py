#!/usr/bin/python3
"""The seeded fault explorer: for each seed, a schedule (scenario.py) run on the real binaries
(runner.py) and checked (oracle.py).  A failure prints its seed and schedule, then the schedule shrunk
(faults and edits taken away one at a time while it still fails), ready to go into regressions.json.

  explore.py --seconds 600                 fresh seeds for ten minutes (the first one printed)
  explore.py --seed 1234                   that seed's schedule again
  explore.py --schedule '{"seed": ...}'    a schedule as printed (a regression)
  explore.py --open-defects ...            with the faults of defects not fixed yet (scenario.OPEN_DEFECTS)
Exits 1 when any schedule failed."""
import argparse
import copy
import glob
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
import replay_oracle  # noqa: E402
import runner  # noqa: E402
import scenario  # noqa: E402

REGRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions.json")


def summary(s):
    feed = s["feed"]
    kind = ("lines" if feed.get("lines") else "plain") + (" frames" if feed.get("framing") == "weir" else "")
    faults = ",".join(f"{f['what']}{'(hung)' if f.get('control') == 'hung' else ''}@{f['at']}"
                      for f in s["faults"]) or "none"
    return (f"seed {s['seed']}: {s['mode']} {kind} {feed['messages']} msgs {feed['sessions']} sessions "
            f"edits={','.join(s['edits']) or '-'} fsync={s['config']['fsync']} seg={s['config']['segment']} "
            f"faults={faults}{' replay' if s.get('replay') else ''}{' load' if s.get('load') else ''}"
            f"{' 2workers' if s.get('workers', 1) == 2 else ''}{' swapped' if s.get('swap_queues') else ''}"
            f"{' vlan+v6' if feed.get('ipv6_rate') else ''}"
            f"{' reorder-window' if s['config'].get('reorder_window') else ''}"
            f"{' simd' + str(s['simd_bits']) if s.get('simd_bits') else ''}"
            f"{' rules' if s.get('rules') else ''}{'+reload' if s.get('rules', {}).get('reload_at') else ''}"
            f"{' export(' + ','.join(f['what'] + '@' + str(f['at']) for f in s['export']['faults']) + ')' if s.get('export') else ''}")


def run_one(s, keep=None):
    """The broken promises of schedule s (empty: it held)."""
    work = tempfile.mkdtemp(prefix="weir-explore-")
    try:
        try:
            r = runner.Run(s, work)
            seen = r.run()
        except runner.Finding as e:
            return [str(e)]
        for note in seen["notes"]:
            print(f"  note: {note}", flush=True)
        bad = oracle.run_checks(s, seen, r.d.log_dir, r.manifest)
        if not bad and s.get("replay"):  # on the log as it was left, before any damage
            bad = replay_oracle.replay_checks(r.d.log_dir, work)
        if not bad:
            bad = oracle.damage_checks(s, seen, r.d.log_dir, r.manifest)
        if bad:  # the processes' last words, for a failure that does not come again
            for log in sorted(glob.glob(os.path.join(work, "*.log"))):
                lines = [line for line in open(log, errors="replace").read().splitlines() if not line.startswith("  ")]
                bad.append(f"{os.path.basename(log)} ended: " + " | ".join(lines[-4:]))
        return bad
    finally:
        if "r" in locals():
            r.close()
        if keep:
            shutil.copytree(work, keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def shrink(s, first_bad):
    """Takes faults and edits away one at a time while the schedule still fails."""
    best, bad = s, first_bad
    changed = True
    while changed:
        changed = False
        for key in ("faults", "edits"):
            for i in range(len(best[key])):
                trial = copy.deepcopy(best)
                del trial[key][i]
                got = run_one(trial)
                print(f"  shrink: without {key}[{i}] ({best[key][i]}): {'still fails' if got else 'passes'}",
                      flush=True)
                if got:
                    best, bad, changed = trial, got, True
                    break
            if changed:
                break
    return best, bad


def report(s, bad, do_shrink):
    print(f"FAIL {summary(s)}")
    for b in bad:
        print(f"  - {b}")
    print(f"  schedule: {json.dumps(s)}")
    if do_shrink and (s["faults"] or s["edits"]):
        small, small_bad = shrink(s, bad)
        print(f"  shrunk: {json.dumps(small)}")
        for b in small_bad:
            print(f"    - {b}")
    sys.stdout.flush()


def schedules(args):
    if args.schedule:
        yield json.loads(args.schedule)
        return
    if args.regressions:
        for s in json.load(open(REGRESSIONS))["schedules"]:
            yield s["schedule"]
        return
    if args.seed is not None:
        yield scenario.pick(args.seed, args.open_defects)
        return
    base = int(time.time() * 1000) % (1 << 31)
    print(f"explore: fresh seeds from {base} (again: explore.py --seed N)", flush=True)
    for i in range(args.runs or 1 << 30):
        yield scenario.pick(base + i, args.open_defects)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=300, help="start no schedule after this (default 300)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--runs", type=int, help="at most this many schedules")
    ap.add_argument("--schedule", help="one schedule, as JSON")
    ap.add_argument("--regressions", action="store_true", help="the schedules of regressions.json")
    ap.add_argument("--open-defects", action="store_true", help="also the faults of defects not fixed yet")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--keep", help="copy the last schedule's files here")
    args = ap.parse_args()
    t0, ran, failed = time.time(), 0, 0
    for s in schedules(args):
        if time.time() - t0 > args.seconds:
            break
        print(f"explore: {summary(s)}", flush=True)
        t = time.time()
        bad = run_one(s, args.keep)
        ran += 1
        if bad:
            failed += 1
            report(s, bad, not args.no_shrink)
        else:
            print(f"  held ({time.time() - t:.1f} s)", flush=True)
    print(f"explore: {ran} schedules in {time.time() - t0:.0f} s, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
