"""The benchmarks take only what their usage says: a flag is never taken for the directory to fill."""
import os
import subprocess

from weir_harness import BUILD

BENCH = os.path.join(BUILD, "perf", "bench_log_reader")


def test_bench_log_reader_refuses_a_flag_and_writes_nothing(tmp_path):
    for args in (["--benchmark_list_tests"], [str(tmp_path / "d"), "--benchmark_filter=x"],
                 [str(tmp_path / "d"), "12x"], [str(tmp_path / "d"), "10", "seeks,bogus"]):
        r = subprocess.run([BENCH, *args], capture_output=True, text=True, cwd=tmp_path, timeout=30)
        assert r.returncode == 2 and "usage: bench_log_reader DIR" in r.stderr, (args, r.stderr)
    assert os.listdir(tmp_path) == []  # no "--benchmark_list_tests" folder, no DIR
    r = subprocess.run([BENCH, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "usage:" in r.stdout
