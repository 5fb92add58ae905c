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

from weir_harness import CHECK, ROOT, eal_mem, gen_pcap, remove_dpdk_files

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
               "ls /usr/include/dpdk >/dev/null 2>&1 && echo present dpdk headers; "
               "weir-dataplane --check pmd-config/demo-pcap.conf >/dev/null 2>&1; id weir", check=True)
    assert "missing" not in r.stdout and "present" not in r.stdout, r.stdout
    assert "uid=" in r.stdout, r.stdout


CONF = """eal --file-prefix={prefix} {mem} --no-pci --log-level=lib.eal:warning
eal --vdev=net_pcap0,rx_pcap=/data/t.pcap
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


def container_status(name):
    """{thread: status lines} of the container's main process, read from the host's /proc"""
    pid = podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
    out = {}
    for t in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(t) as f:
                out[t] = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            pass
    return out


def test_dataplane_and_control_in_two_containers_run_as_weir_and_lose_nothing(built, tmp_path):
    assert built.returncode == 0
    prefix = f"wt-ctr-{os.getpid()}"
    data, run, state = (tempfile.mkdtemp(prefix=f"weir-ctr-{k}-", dir="/tmp") for k in ("data", "run", "state"))
    names = [f"weir-dp-{os.getpid()}", f"weir-cp-{os.getpid()}"]
    try:
        pcap, manifest = gen_pcap(data, name="t", seed=9, messages=100000, sessions=4, malformed_rate=0.01)
        with open(os.path.join(data, "weir.conf"), "w") as f:
            f.write(CONF.format(prefix=prefix, mem=eal_mem()))
        for d in (data, run, state):
            os.chmod(d, 0o755)
        weir_uid = podman("run", "--rm", "--network=none", IMAGE, "id", "-u", "weir").stdout.strip()
        os.chown(state, int(weir_uid), int(weir_uid))  # as `install -d -o weir /var/lib/weir` on a host
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
        seen = {}
        deadline = time.time() + 60
        while time.time() < deadline and len(seen) < 2:
            for n in names:
                logs = podman("logs", n).stdout
                if n not in seen and "running as user weir" in logs:
                    seen[n] = container_status(n)
            time.sleep(0.05)
        assert len(seen) == 2, [podman("logs", n, check=False).stdout for n in names]
        for n, threads in seen.items():
            assert threads, n
            for t, st in threads.items():
                assert st["Uid"].split() == [weir_uid] * 4, (n, t, st["Uid"])
                assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, (n, t, st["CapEff"])
                assert int(st["CapBnd"], 16) == 0 and st["NoNewPrivs"] == "1", (n, t, st["CapBnd"])
        for n in names:
            rc = podman("wait", n, timeout=180).stdout.strip()
            assert rc == "0", podman("logs", n).stdout + podman("logs", n).stderr
        r = subprocess.run([CHECK, "--manifest", manifest, "--log", os.path.join(state, "log"), "--dataplane-stats",
                            os.path.join(state, "dataplane.json")], capture_output=True, text=True)
        assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
        owners = {os.lstat(p).st_uid for p in glob.glob(os.path.join(state, "log") + "/**", recursive=True)}
        assert owners == {int(weir_uid)}, owners
    finally:
        for n in names:
            podman("rm", "-f", n, check=False)
        podman("pod", "rm", "-f", names[0] + "-pod", check=False)
        remove_dpdk_files(prefix)
        for d in (data, run, state):
            shutil.rmtree(d, ignore_errors=True)
