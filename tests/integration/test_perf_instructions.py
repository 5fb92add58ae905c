"""perf/instructions.py, the deterministic companion of perf-ab's timed figures: it reads callgrind's calls
and inclusive costs right, and a count is the same on every run (what it is for)."""
import os
import shutil
import sys

import pytest

from weir_harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "perf"))
import instructions  # noqa: E402

# Two call sites of an LTO clone of f, one of a function whose name only starts like it, and f's own
# lines (self cost, not counted): names given once, then by number, as callgrind writes them.
CALLGRIND = """\
version: 1
events: Ir
fl=(1) a.c
fn=(1) caller
0 5
cfn=(2) f.constprop.0
calls=3 0
0 300
cfn=(3) fx
calls=7 0
0 7000
fn=(2)
0 99
fn=(4) other
0 1
cfn=(2)
calls=1 0
0 120
"""


def test_counts_every_call_site_of_a_function_and_its_clones_only(tmp_path):
    path = tmp_path / "callgrind.out"
    path.write_text(CALLGRIND)
    assert instructions.per_call(str(path), "f") == (4, 420)
    assert instructions.per_call(str(path), "fx") == (7, 7000)
    assert instructions.per_call(str(path), "nothing") == (0, 0)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_a_stage_costs_the_same_instructions_on_every_run():
    bench = os.path.join(ROOT, "build", "perf", "bench_stages")
    if not os.path.exists(bench):
        pytest.skip("bench_stages is not built (Google Benchmark missing)")
    runs = [instructions.count(bench, "BM_parse/1$", "weir_parse_udp", 1) for _ in range(2)]
    assert runs[0] > 50 and runs[0] == runs[1], runs   # a frame parsed and summed: scores of instructions
    with pytest.raises(LookupError):   # a function the build does not call: said, not counted as 0
        instructions.count(bench, "BM_parse/1$", "weir_no_such_stage", 1)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_ab_burst_is_counted_where_the_benchmark_would_inline_it():
    """BM_pipeline_ab_burst calls the pipeline through bench_ab_burst, kept a call: inlined, its instructions
    were the benchmark's own and the A/B figures were said to be uncountable."""
    bench = os.path.join(ROOT, "build", "perf", "bench_stages")
    if not os.path.exists(bench):
        pytest.skip("bench_stages is not built (Google Benchmark missing)")
    first = instructions.count(bench, "BM_pipeline_ab_burst/0$", "bench_ab_burst", 32)
    pair = instructions.count(bench, "BM_pipeline_ab_burst/1$", "bench_ab_burst", 16)
    assert 100 < first < pair, (first, pair)   # a pair is a first copy and a second one
