"""scripts/kafka.sh, the suite's own Kafka, says the truth about what it started (issue 23 item 11): a start
on ports another cluster holds is refused (it said success and printed the other's bootstrap list while its
own nodes died of INCONSISTENT_CLUSTER_ID), and a restarted node is back when restart returns."""
import subprocess

from weir_harness import KAFKA_SH


def brokers(bootstrap):
    out = subprocess.run(["kcat", "-b", bootstrap, "-L", "-m", "5"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if line.startswith("  broker "))


def test_a_start_on_taken_ports_is_refused_and_a_restart_returns_once_the_node_answers(kafka, tmp_path):
    k = kafka(1)
    port = k.bootstrap.split(",")[0].rsplit(":", 1)[1]
    r = subprocess.run([KAFKA_SH, "start", str(tmp_path / "second"), "1", port], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and f"port {port} is taken" in r.stderr, r.stdout + r.stderr
    assert k.bootstrap not in r.stdout  # not the other cluster's list, as if it were its own
    assert brokers(k.bootstrap) == 1  # the running cluster untouched
    k.node("kill", 1)
    assert brokers(k.bootstrap) == 0
    k.node("restart", 1)
    assert brokers(k.bootstrap) == 1  # back when restart returned, not some time after
