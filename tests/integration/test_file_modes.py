"""The log and what the processes leave beside it are no wider than the service's group: files 0640 and
directories 0750 by default, narrower with `log mode`."""
import glob
import os
import stat
import time

import pytest

from weir_harness import gen_pcap

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
decoder moldudp64 udp-port 26400 topic itch
log fsync interval 50ms
log segment-size 64K
shutdown drain-timeout 20s
"""


def modes(d):
    """mode bits of every file and directory of the log (the log dir too), and of the shared memory files"""
    out = {d.log_dir: stat.S_IMODE(os.stat(d.log_dir).st_mode)}
    for root, dirs, files in os.walk(d.log_dir):
        for n in dirs + files:
            p = os.path.join(root, n)
            out[p] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def shm_modes(d):
    out = {}
    for p in glob.glob(f"/dev/shm/*{d.prefix}*") + glob.glob(f"/dev/hugepages/*{d.prefix}*"):
        try:
            out[p] = stat.S_IMODE(os.lstat(p).st_mode)
        except FileNotFoundError:
            pass
    return out


@pytest.mark.parametrize("mode,dirs", [(None, 0o750), ("0600", 0o700)], ids=["default", "log-mode-0600"])
def test_the_log_is_created_for_the_services_group_only(deploy, tmp_path, mode, dirs):
    files = 0o640 if mode is None else int(mode, 8)
    pcap, _ = gen_pcap(str(tmp_path), seed=3, messages=20000, sessions=2, end_session=True)
    body = BODY + (f"log mode {mode}\n" if mode else "")
    d = deploy("modes", f"--vdev=net_pcap0,rx_pcap={pcap}", body)
    dp = d.start_dataplane("--stop-when-idle", "1.5")
    d.wait_running()
    shm = {}
    cp = d.start_control("--exit-when-done")
    for _ in range(50):  # the shared memory while the processes run
        shm.update(shm_modes(d))
        if dp.poll() is not None:
            break
        time.sleep(0.05)
    assert dp.wait(timeout=60) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    got = modes(d)
    kinds = {os.path.basename(p).rsplit(".", 1)[-1] for p in got if os.path.isfile(p)}
    assert {"log", "index", "json"} <= kinds, sorted(got)  # segments, indexes, the loss report at least
    wrong = {p: oct(m) for p, m in got.items()
             if m != (dirs if os.path.isdir(p) and not os.path.islink(p) else files)}
    assert not wrong, wrong
    wide = {p: oct(m) for p, m in shm.items() if m & 0o007 or m & ~(files | (dirs & 0o111))}
    assert shm, "no shared memory file seen"
    assert not wide, wide
