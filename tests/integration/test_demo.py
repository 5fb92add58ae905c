"""The README's main job, scripts/demo.sh, runs and ends in PASS (on a smaller capture)."""
import os
import subprocess

from weir_harness import ROOT


def test_readme_demo_ends_in_pass_against_its_manifest(tmp_path):
    env = dict(os.environ, WEIR_DEMO_MESSAGES="30000", WEIR_DEMO_DIR=str(tmp_path / "demo"))
    r = subprocess.run([os.path.join(ROOT, "scripts", "demo.sh")], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "weir-check: PASS" in r.stdout
    assert "identity: rx_packets" in r.stdout and ": holds" in r.stdout
    assert "persisted" in r.stdout  # the progress lines from weir-control
