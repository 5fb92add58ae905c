"""The container (docker/Dockerfile), built with podman on a Debian 12 base made here with debootstrap
(scripts/container.sh): it runs the demo to PASS, its runtime stage holds no build tools, and the dataplane and
weir-control in two containers, sharing what docs/deploy.md's `docker run` lines share, drop to the image's weir
user and lose nothing."""
import glob
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from weir_harness import (CHECK, ROOT, assert_no_privilege, eal_mem, gen_pcap, persisted, process_threads,
                          remove_dpdk_files, threads_of)

IMAGE = "localhost/weir:latest"
ENV = dict(os.environ, CONTAINERS_CONF=os.path.join(ROOT, "docker", "containers.conf"))
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="podman as root: DPDK in a container needs it")


def podman(*args, check=True, timeout=120):
    r = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, env=ENV)
    assert not check or r.returncode == 0, f"podman {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


@pytest.fixture(scope="module")
def built():
    """scripts/container.sh: the base image (once), the image, the demo in it"""
    r = subprocess.run([os.path.join(ROOT, "scripts", "container.sh")], capture_output=True, text=True,
                       timeout=1800, env=dict(ENV, WEIR_CONTAINER_MESSAGES="200000"))
    return r


def test_the_image_builds_and_runs_the_demo_to_pass(built):
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "weir-check: PASS" in built.stdout, built.stdout[-4000:]
    assert "identity: rx_packets" in built.stdout and ": holds" in built.stdout


def test_the_runtime_stage_holds_the_programs_and_no_build_tools(built):
    assert built.returncode == 0
    r = podman("run", "--rm", "--network=none", IMAGE, "sh", "-c",
               "for p in weir-dataplane weir-control weir-export weir-read weir-stat weir-gen weir-check; do "
               "command -v $p >/dev/null || echo missing $p; done; "
               "for p in gcc cc meson ninja pkg-config; do command -v $p && echo present $p; done; "
               "ls /usr/include/dpdk >/dev/null 2>&1 && echo present dpdk headers; id weir", check=True)
    assert "missing" not in r.stdout and "present" not in r.stdout, r.stdout
    assert "uid=" in r.stdout, r.stdout


CONF = """eal --file-prefix={prefix} {mem} --no-pci --log-level=lib.eal:warning
eal --vdev=net_pcap0,rx_pcap={data}/t.pcap
set corelist 1
port config all rxq 1
ring size 1M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log dir /var/lib/weir/log
log fsync batch
metrics off
shutdown drain-timeout 60s
user weir
"""


def weir_ids():
    """uid and gid of the image's weir user"""
    return tuple(int(podman("run", "--rm", "--network=none", IMAGE, "id", flag, "weir").stdout)
                 for flag in ("-u", "-g"))


def test_dataplane_and_control_in_two_containers_run_as_weir_and_lose_nothing(built, tmp_path):
    assert built.returncode == 0
    prefix = f"wt-ctr-{os.getpid()}"
    data, run, state = (tempfile.mkdtemp(prefix=f"weir-ctr-{k}-", dir="/tmp") for k in ("data", "run", "state"))
    names = [f"weir-dp-{os.getpid()}", f"weir-cp-{os.getpid()}"]
    try:
        pcap, manifest = gen_pcap(data, name="t", seed=9, messages=100000, sessions=4, malformed_rate=0.01)
        with open(os.path.join(data, "weir.conf"), "w") as f:
            f.write(CONF.format(prefix=prefix, mem=eal_mem(), data="/data"))
        for d in (data, run, state):
            os.chmod(d, 0o755)
        uid, gid = weir_ids()
        os.chown(state, uid, gid)  # as `install -d -o weir /var/lib/weir` on a host
        # What the README's `docker run` lines share (hugepages, DPDK's runtime directory, the config, the
        # state) with the container's default capabilities, which weir drops.  Without hugepages the rings are
        # /dev/shm files and liveness is by pid: the two then share a pod's IPC and PID namespaces.
        shared = ["-v", "/dev/hugepages:/dev/hugepages"]
        if "--no-huge" in eal_mem():
            podman("pod", "create", "--name", names[0] + "-pod", "--share", "ipc,pid", "--network", "none")
            shared = ["--pod", names[0] + "-pod"]
        common = ["--shm-size=1g", "-v", f"{data}:/data:ro", "-v", f"{run}:/run/dpdk",
                  "-v", f"{state}:/var/lib/weir", *shared]
        podman("run", "-d", "--name", names[0], *common, IMAGE, "weir-dataplane", "-f", "/data/weir.conf",
               "--stop-when-idle", "3", "--stats-interval", "0", "--stats-json", "/var/lib/weir/dataplane.json")
        podman("run", "-d", "--name", names[1], *common, IMAGE, "weir-control", "-f", "/data/weir.conf",
               "--exit-when-done", "--summary-interval", "0", "--batch-records", "256")
        # weir-control drops before EAL starts its threads: read them once it drains
        ready = {names[0]: "running as user weir", names[1]: "weir-control: draining"}
        seen = set()
        deadline = time.time() + 60
        while time.time() < deadline and len(seen) < 2:
            for n in set(names) - seen:
                if ready[n] in podman("logs", n).stdout:
                    pid = podman("inspect", "--format", "{{.State.Pid}}", n).stdout.strip()
                    assert_no_privilege(process_threads(pid), uid, gid, n)
                    seen.add(n)
            time.sleep(0.05)
        assert len(seen) == 2, [(lambda r: r.stdout + r.stderr)(podman("logs", n, check=False)) for n in names]
        assert "running as user weir" in podman("logs", names[1]).stdout
        for n in names:
            rc = podman("wait", n, timeout=180).stdout.strip()
            assert rc == "0", podman("logs", n).stdout + podman("logs", n).stderr
        r = subprocess.run([CHECK, "--manifest", manifest, "--log", os.path.join(state, "log"), "--dataplane-stats",
                            os.path.join(state, "dataplane.json")], capture_output=True, text=True)
        assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
        owners = {os.lstat(p).st_uid for p in glob.glob(os.path.join(state, "log") + "/**", recursive=True)}
        assert owners == {uid}, owners
    finally:
        for n in names:
            podman("rm", "-f", n, check=False)
        podman("pod", "rm", "-f", names[0] + "-pod", check=False)
        remove_dpdk_files(prefix)
        for d in (data, run, state):
            shutil.rmtree(d, ignore_errors=True)




def in_container(name, *cmd, check=True):
    return podman("exec", name, *cmd, check=check).stdout


def main_pid(name, unit):
    return in_container(name, "systemctl", "show", "-p", "MainPID", "--value", unit).strip()


def test_the_systemd_units_run_for_real_under_systemd_as_pid_1(built, tmp_path):
    """deploy/systemd's units in weir's image with systemd as PID 1 (docker/Dockerfile.units): the dataplane's
    set-up capabilities gone from every thread once it runs, weir-control restarted after a SIGKILL, and both
    stopped together; the log holds every event once.  --no-huge: the weir user owns no hugetlbfs mount here."""
    assert built.returncode == 0
    podman("build", "--quiet", "--network=host", "-f", os.path.join(ROOT, "docker", "Dockerfile.units"),
           "-t", "localhost/weir-units:latest", ROOT, timeout=600)
    conf, state = (tempfile.mkdtemp(prefix=f"weir-units-{k}-", dir="/tmp") for k in ("conf", "state"))
    name = f"weir-units-{os.getpid()}"
    try:
        pcap, manifest = gen_pcap(conf, name="t", seed=13, messages=100000, sessions=4, malformed_rate=0.01)
        with open(os.path.join(conf, "weir.conf"), "w") as f:
            f.write(CONF.format(prefix="weir", mem="--no-huge -m 512", data="/etc/weir"))
        for p in [conf] + glob.glob(conf + "/*"):
            os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)
        uid, gid = weir_ids()
        os.chown(state, uid, gid)
        # SYS_ADMIN is the container's systemd's, for the units' namespaces (ProtectSystem, PrivateTmp, ...);
        # without it systemd runs them unconfined and says so only of ProtectHostname.
        podman("run", "-d", "--name", name, "--cap-add", "SYS_ADMIN", "--network=none", "--shm-size=1g",
               "-v", f"{conf}:/etc/weir:ro", "-v", f"{state}:/var/lib/weir", "localhost/weir-units:latest")
        log = os.path.join(state, "log")
        deadline = time.time() + 60
        while time.time() < deadline and not (os.path.isdir(log) and persisted(log) >= 100000):
            time.sleep(0.1)
        assert persisted(log) >= 100000, in_container(name, "journalctl", "--no-pager", check=False)
        assert in_container(name, "systemctl", "is-active", "weir-dataplane", "weir-control").split() == \
            ["active", "active"]
        for unit in ("weir-dataplane", "weir-control"):
            pid = main_pid(name, unit)
            threads = threads_of(in_container(name, "sh", "-c", f"cat /proc/{pid}/task/*/status"))
            assert_no_privilege(threads, uid, gid, unit, bounding=False)  # the unit's bounding set stays
            assert all(st["Seccomp"] == "2" for st in threads), unit
            mounts = {m.split()[4]: m.split()[5] for m in in_container(name, "cat", f"/proc/{pid}/mountinfo")
                      .splitlines()}
            assert mounts["/"].startswith("ro") and mounts["/var/lib/weir"].startswith("rw"), (unit, mounts)
            assert "systemd-private" in in_container(name, "cat", f"/proc/{pid}/mountinfo"), unit  # PrivateTmp
        # Restart=on-failure: a SIGKILLed weir-control comes back and resumes where the log stands.
        before = main_pid(name, "weir-control")
        in_container(name, "kill", "-9", before)
        deadline = time.time() + 30
        while time.time() < deadline and main_pid(name, "weir-control") in (before, "0"):
            time.sleep(0.2)
        assert main_pid(name, "weir-control") not in (before, "0")
        # BindsTo=: stopping the dataplane stops weir-control with it.
        in_container(name, "systemctl", "stop", "weir-dataplane")
        states = in_container(name, "systemctl", "is-active", "weir-dataplane", "weir-control", check=False)
        assert states.split() == ["inactive", "inactive"], states
        journal = in_container(name, "journalctl", "--no-pager", "-u", "weir-dataplane")
        assert "identity: rx_packets" in journal and ": holds" in journal, journal[-3000:]
        r = subprocess.run([CHECK, "--manifest", manifest, "--log", log], capture_output=True, text=True)
        assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
    finally:
        podman("rm", "-f", "-t", "5", name, check=False)
        shutil.rmtree(conf, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
