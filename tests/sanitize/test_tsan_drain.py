"""weir-control built with ThreadSanitizer drains a live dataplane while
/metrics is scraped as fast as it answers: the drain thread, the log's
writer thread and libmicrohttpd's thread must share nothing unsynchronised.
Run by scripts/sanitize.sh (WEIR_TSAN_BUILD names the TSan build)."""
import os
import sys
import threading
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import weir_harness  # noqa: E402
from weir_harness import gen_pcap  # noqa: E402

TSAN = os.environ.get("WEIR_TSAN_BUILD")
pytestmark = pytest.mark.skipif(not TSAN, reason="scripts/sanitize.sh runs this with a TSan build")

BODY = """
set corelist 1
port config all rxq 1
ring size 1M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync interval 5ms
metrics sla 1ms
"""


def test_a_live_drain_scraped_all_along_has_no_data_race(deploy, tmp_path, monkeypatch):
    monkeypatch.setattr(weir_harness, "CONTROL", os.path.join(TSAN, "control", "weir-control"))
    pcap, _ = gen_pcap(str(tmp_path), seed=9, messages=200000, sessions=4)
    # --no-huge: weir-control maps the regions as files, without EAL, so TSan sees only weir's own threads.
    d = deploy("tsan", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY, no_huge=True)
    dp = d.start_dataplane("--stop-when-idle", "2")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    scrapes, stop = [0], threading.Event()

    def scrape():
        while not stop.is_set():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{d.metrics_port}/metrics", timeout=5).read()
                scrapes[0] += 1
            except OSError:
                time.sleep(0.01)

    t = threading.Thread(target=scrape)
    t.start()
    try:
        assert dp.wait(timeout=300) == 0, d.output("dataplane")
        assert cp.wait(timeout=300) == 0, d.output("control")
    finally:
        stop.set()
        t.join()
    out = d.output("control")
    assert "ThreadSanitizer" not in out, out
    assert scrapes[0] > 5
