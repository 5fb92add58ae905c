import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weir_harness import KAFKA_SH, Deployment, free_base  # noqa: E402


@pytest.fixture
def deploy(tmp_path):
    """deploy(name, eal, body): a Deployment whose processes and DPDK files go when the test ends."""
    made = []

    def make(name, eal, body, **kw):
        d = Deployment(tmp_path, name, eal, body, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()




class KafkaCluster:
    """Brokers scripts/kafka.sh started (KRaft, loopback): bootstrap, and nodes to kill or pause."""

    def __init__(self, path, bootstrap, nodes):
        self.dir, self.bootstrap, self.nodes = path, bootstrap, nodes

    def node(self, verb, k):
        subprocess.run([KAFKA_SH, verb, self.dir, str(k)], check=True, timeout=120)  # restart: until it answers


@pytest.fixture
def kafka(tmp_path_factory):
    """kafka(nodes=1): a real Apache Kafka cluster for this test, stopped and removed after it."""
    made = []

    def start(nodes=1):
        d = str(tmp_path_factory.mktemp("kafka"))
        r = subprocess.run([KAFKA_SH, "start", d, str(nodes), str(free_base())], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        c = KafkaCluster(d, r.stdout.strip().splitlines()[-1], nodes)
        made.append(c)
        return c

    yield start
    for c in made:
        subprocess.run([KAFKA_SH, "stop", c.dir], timeout=60)
