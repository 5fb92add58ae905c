"""The fault explorer in the suite: every schedule a failure once gave (regressions.json) holds, and a
bounded run of fresh seeds (WEIR_EXPLORE_SECONDS, default 240) holds; its first seed is printed, so a
failure comes back with explore.py --seed N."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXPLORE = os.path.join(HERE, "explore.py")
REGRESSIONS = json.load(open(os.path.join(HERE, "regressions.json")))["schedules"]


def explore(*args, timeout):
    r = subprocess.run([sys.executable, EXPLORE, *args], capture_output=True, text=True, timeout=timeout)
    print(r.stdout[-20000:], r.stderr[-4000:])
    return r


@pytest.mark.parametrize("case", REGRESSIONS, ids=[c["name"] for c in REGRESSIONS])
def test_a_schedule_that_once_failed_holds(case):
    r = explore("--schedule", json.dumps(case["schedule"]), "--no-shrink", timeout=400)
    assert r.returncode == 0, f"{case['name']} ({case['why']}):\n{r.stdout[-4000:]}"


def test_fresh_seeds_hold_for_a_bounded_time():
    seconds = float(os.environ.get("WEIR_EXPLORE_SECONDS", "240"))
    r = explore("--seconds", str(seconds), timeout=seconds + 1500)
    assert "fresh seeds from" in r.stdout and " schedules in " in r.stdout, r.stdout[-2000:]
    assert r.returncode == 0, r.stdout[-8000:]
