"""perf/appliance.py, the documented whole-appliance benchmark, runs end to end: a short weir case and its
testpmd and kernel baselines give figures that add up (rates are not judged: benchmarks measure, tests don't)."""
import json
import os
import shutil
import subprocess

import pytest

from weir_harness import ROOT


@pytest.mark.skipif(shutil.which("dpdk-testpmd") is None, reason="dpdk-testpmd is not installed")
def test_appliance_benchmark_runs_and_reports_consistent_figures(tmp_path):
    out = tmp_path / "perf"
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "perf", "appliance.py"), "--out", str(out), "--seconds", "1",
                        "--packets", "1024", "--cases", "small-1msg", "--no-isolate", "--repeat", "2"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    doc = json.loads((out / "appliance.json").read_text())
    (res,) = doc["results"]
    w, t, k = res["weir"], res["testpmd"], res["kernel"]
    assert w["identity_holds"] and w["dataplane_exit"] == 0 and w["control_exit"] == 0
    assert w["rx_mpps"] > 0 and w["delivered_mevents"] > 0 and w["ns_per_packet"] > 0
    assert w["session_restarts"] > 0 and w["duplicates"] == 0   # every replay was new events
    assert abs(w["capacity_mpps"] * w["ns_per_packet"] - 1000) < 1e-6
    assert t["mpps"] > 0 and abs(res["ratio_weir_testpmd"] - w["capacity_mpps"] / t["mpps"]) < 1e-9
    assert k["mpps"] > 0 and k["ns_per_packet"] > 0
    for who in (w, t, k):   # each receiver ran twice, taking turns, and is reported by its median run
        assert len(who["runs_ns_per_packet"]) == 2 and who["ns_per_packet"] == min(who["runs_ns_per_packet"])
    assert (out / "appliance.md").read_text().count("| small-1msg |") == 1
    assert not (out / "log").exists()   # each run's log is removed


def test_the_trust_case_leaves_the_checksum_unchecked_and_the_plain_case_checks_it(tmp_path):
    out = tmp_path / "perf"
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "perf", "appliance.py"), "--out", str(out), "--seconds", "1",
                        "--packets", "1024", "--cases", "small-1msg,small-1msg-trust", "--no-isolate",
                        "--no-baselines"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    by_case = {res["case"]: res["weir"] for res in json.loads((out / "appliance.json").read_text())["results"]}
    verify, trust = by_case["small-1msg"], by_case["small-1msg-trust"]
    assert verify["identity_holds"] and trust["identity_holds"]
    assert verify["udp_checksum_unverified"] == 0 and verify["rx_mpps"] > 0
    # every packet of the window passed unchecked, and none was lost for it
    assert trust["udp_checksum_unverified"] > 0 and trust["duplicates"] == 0
