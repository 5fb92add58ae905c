"""`user NAME`: weir-dataplane and weir-control, started as root, set up and then run as the service user in every
thread with no capability left, and a weir-control restarted as that user (not root) attaches and drains on."""
import glob
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from weir_harness import (CONTROL, DATAPLANE, READ, Deployment, assert_no_privilege, gen_pcap, load_json, persisted,
                          process_threads)

USER = "weir-test"
BODY = f"""
set corelist 1
port config all rxq 1
ring size 512K
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync batch
log segment-size 1M
shutdown drain-timeout 60s
user {USER}
"""
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")


@pytest.fixture(scope="module")
def service_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
        return pwd.getpwnam(USER)


@pytest.fixture
def user_deploy(service_user):
    """deploy(name, eal, body) in a directory the service user may reach and write (pytest's are root's, 0700)"""
    made = []
    top = tempfile.mkdtemp(prefix="weir-priv-", dir="/tmp")
    os.chmod(top, 0o755)
    os.chown(top, service_user.pw_uid, service_user.pw_gid)

    def make(name, eal, body):
        made.append(Deployment(top, name, eal, body))
        return made[-1]

    yield make
    for d in made:
        d.close()
    shutil.rmtree(top, ignore_errors=True)


def wait_for(pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(what)


def test_both_processes_run_as_the_user_with_no_capability_and_a_restart_as_that_user_drains_on(
        user_deploy, tmp_path, service_user):
    pcap, manifest = gen_pcap(str(tmp_path), seed=5, messages=200000, sessions=4, malformed_rate=0.01)
    total = load_json(manifest)["messages"]
    d = user_deploy("priv", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "3")
    d.wait_running()
    assert "running as user weir-test" in d.output("dataplane")
    cp = d.start_control("--batch-records", "256")
    wait_for(lambda: persisted(d.log_dir) > 0 or cp.poll() is not None, "weir-control persisted nothing")
    assert cp.poll() is None, d.output("control")
    for p, what in ((dp, "weir-dataplane"), (cp, "weir-control")):
        assert_no_privilege(process_threads(p.pid), service_user.pw_uid, service_user.pw_gid, what)
    cp.send_signal(signal.SIGKILL)
    cp.wait()
    left = persisted(d.log_dir)
    assert left < total, "the drain finished before the kill"
    # The restart is the user's own, no root at all: everything it needs was handed over.
    cp = d.start_control("--exit-when-done", tag="restarted", as_user=USER)
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("restarted")
    d.check(manifest)
    owners = {(os.lstat(p).st_uid, os.lstat(p).st_gid) for p in glob.glob(d.log_dir + "/**", recursive=True)}
    assert owners == {(service_user.pw_uid, service_user.pw_gid)}, owners


def test_a_process_that_cannot_become_the_user_is_refused_at_its_line(user_deploy):
    d = user_deploy("priv-refused", "--vdev=net_null0", BODY)
    conf = d.config
    os.chmod(conf, 0o644)
    for prog in (DATAPLANE, CONTROL):
        r = subprocess.run([prog, "-f", conf], user="nobody", group="nogroup", extra_groups=[], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 1, (prog, r.returncode, r.stdout, r.stderr)
        line = open(conf).read().split("\n").index(f"user {USER}") + 1
        assert f"{conf}:{line}: cannot become user {USER}" in r.stderr, r.stderr
        assert "start as root, or as weir-test" in r.stderr, r.stderr


def test_a_control_started_while_the_dataplane_still_holds_its_runtime_directory_as_root_waits_for_it(
        user_deploy, tmp_path, service_user):
    """Started together (two containers, two units): EAL makes its runtime directory as root, and the dataplane
    gives it to the service user before it publishes its regions.  A weir-control that is already that user and
    finds the directory root's in between must wait for the regions, not give up on the consumer lock (it did:
    "cannot open the lock: Permission denied", exit 1, about one start in ten in the container test)."""
    pcap, manifest = gen_pcap(str(tmp_path), seed=6, messages=50000, sessions=4)
    d = user_deploy("priv-early", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    run = f"/var/run/dpdk/{d.prefix}"
    os.makedirs(run, mode=0o755)  # as EAL leaves it before the dataplane settles: root's
    cp = d.start_control("--exit-when-done")
    wait_for(lambda: "running as user weir-test" in d.output("control") or cp.poll() is not None,
             "weir-control did not start")
    time.sleep(1)
    assert cp.poll() is None, d.output("control")
    dp = d.start_dataplane("--stop-when-idle", "2")
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    d.check(manifest)


def test_a_salvage_and_a_verify_run_as_root_leave_the_log_the_services_own(user_deploy, tmp_path, service_user):
    """The operator runs weir-read as root on the service's log (salvage needs to write; sudo is the way): the
    segments salvage writes back, its holes file and the indexes a reader builds take the topic's owner and
    the log's modes, not root's and 0644.  A root-owned last segment left weir-control, run as the user, unable
    to append to the topic it had just been told to take again."""
    pcap, manifest = gen_pcap(str(tmp_path), seed=7, messages=60000, sessions=2)
    d = user_deploy("priv-salvage", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY)
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done", tag="first")
    assert dp.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("first")
    topic = os.path.join(d.log_dir, "itch")
    segment = sorted(glob.glob(os.path.join(topic, "*.log")))[-1]
    with open(segment, "r+b") as f:  # damage before the committed point of the open segment: refused
        f.seek(os.path.getsize(segment) // 3)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x40]))
    for p in glob.glob(os.path.join(topic, "*.index")):  # a reader run as root builds what is missing
        os.unlink(p)
    r = subprocess.run([READ, "--salvage", topic], capture_output=True, text=True)
    assert r.returncode == 0 and "lost in 1 hole" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([READ, "--verify", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # a registered reader's first run as root makes readers/ (where weir-export, as the user, registers too)
    r = subprocess.run([READ, "--topic", "itch", "--register", "audit", "--count", "1", d.log_dir],
                       capture_output=True, text=True)
    assert r.returncode == 0 and os.path.exists(os.path.join(topic, "readers", "audit")), r.stdout + r.stderr
    wrong = {p: (s.st_uid, oct(stat.S_IMODE(s.st_mode))) for p in glob.glob(topic + "/**", recursive=True)
             for s in [os.lstat(p)]
             if (s.st_uid, s.st_gid) != (service_user.pw_uid, service_user.pw_gid)
             or stat.S_IMODE(s.st_mode) != (0o750 if stat.S_ISDIR(s.st_mode) else 0o640)}
    assert not wrong, wrong
    # and the service, as its user (no root at all, as a unit with User= starts it), takes the topic on
    dp = d.start_dataplane("--stop-when-idle", "1")
    d.wait_running()
    cp = d.start_control("--exit-when-done", tag="after", as_user=USER)
    assert dp.wait(timeout=60) == 0 and cp.wait(timeout=60) == 0, d.output("after")
    r = subprocess.run([READ, "--verify", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 0 and "lost, stated in" in r.stdout, r.stdout + r.stderr
