"""The systemd units, rendered for an installation, pass `systemd-analyze verify` without a word, keep
their hardening, and score as docs/deploy.md says under `systemd-analyze security`."""
import os
import re
import shutil
import subprocess

import pytest

from weir_harness import BUILD, CONTROL, DATAPLANE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = os.path.join(BUILD, "export", "weir-export")
RENDER = os.path.join(ROOT, "deploy", "systemd", "render.sh")


@pytest.fixture
def units(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for exe in (DATAPLANE, CONTROL, EXPORT):
        os.symlink(exe, bindir / os.path.basename(exe))
    out = tmp_path / "units"
    subprocess.run([RENDER, str(out), str(bindir), "/etc/weir/weir.conf", "/var/lib/weir", "weir"], check=True,
                   capture_output=True)
    return out


def test_the_units_verify_without_a_warning(units):
    r = subprocess.run(["systemd-analyze", "verify", "weir-dataplane.service", "weir-control.service",
                        "weir-export.service"], cwd=units,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def test_control_lives_with_the_dataplane_and_both_run_hardened_as_the_weir_user(units):
    dp = (units / "weir-dataplane.service").read_text()
    cp = (units / "weir-control.service").read_text()
    assert "BindsTo=weir-dataplane.service" in cp and "After=weir-dataplane.service" in cp
    for u in (dp, cp):
        assert "User=weir" in u and "Restart=on-failure" in u and "NoNewPrivileges=yes" in u
        for key in ("ProtectSystem=strict", "ReadWritePaths=/var/lib/weir", "LockPersonality=yes",
                    "MemoryDenyWriteExecute=yes", "UMask=0027",
                    "Environment=XDG_RUNTIME_DIR=/run"):  # else each unit's EAL files in its own private /tmp
            assert key in u, key
    assert re.search(r"^CapabilityBoundingSet=CAP_IPC_LOCK CAP_NET_RAW CAP_NET_ADMIN$", dp, re.M)
    assert re.search(r"^CapabilityBoundingSet=$", cp, re.M)  # a secondary needs none


def test_export_waits_for_kafka_itself_and_is_restarted_only_after_a_crash(units):
    """weir-export is bound to neither the dataplane nor weir-control (a slow Kafka holds up neither, and it
    ships what the log holds while they are down); it checks its config first, has no capability, writes
    only in the log (its reader registration), and is restarted after a crash but not after exit 1 (fenced by
    another exporter with the same id, or a damaged log: two fencing each other would take turns for ever)."""
    ex = (units / "weir-export.service").read_text()
    assert "BindsTo" not in ex and "Requires" not in ex
    assert "ExecStartPre=" in ex and "weir-export --check /etc/weir/weir.conf" in ex
    assert re.search(r"^Restart=on-abnormal$", ex, re.M)
    assert re.search(r"^CapabilityBoundingSet=$", ex, re.M) and re.search(r"^ReadWritePaths=/var/lib/weir$", ex, re.M)
    for key in ("User=weir", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateDevices=yes",
                "MemoryDenyWriteExecute=yes", "UMask=0027"):
        assert key in ex, key


def test_security_exposure_is_at_most_what_the_docs_say(units):
    """systemd-analyze security, offline: 0 best, 10 worst; docs/deploy.md states 2.8, 1.9 and 1.8."""
    for unit, most in (("weir-dataplane.service", 2.8), ("weir-control.service", 1.9), ("weir-export.service", 1.8)):
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", f"./{unit}"], cwd=units,
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
        assert m, r.stdout + r.stderr
        assert float(m.group(1)) <= most, (unit, m.group(1))
