import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weir_harness import Deployment  # noqa: E402


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
