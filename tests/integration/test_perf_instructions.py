"""perf/instructions.py, the deterministic companion of perf-ab's timed figures: it reads callgrind's calls
and inclusive costs right, and a count is the same on every run (what it is for)."""
import os
import shutil
import subprocess
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


@pytest.fixture(scope="module")
def bench():
    """bench_stages of the build the counts are made on (build-count/, for x86-64-v3: on an AVX-512 CPU a
    -march=native build stops valgrind at its first AVX-512 instruction)."""
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    if not os.path.exists(os.path.join(ROOT, "build", "perf", "bench_stages")):
        pytest.skip("bench_stages is not built (Google Benchmark missing)")
    return os.path.join(instructions.counting_build(ROOT), "perf", "bench_stages")


def test_a_stage_costs_the_same_instructions_on_every_run(bench):
    runs = [instructions.count(bench, "BM_parse/1$", "weir_parse_udp", 1) for _ in range(2)]
    assert runs[0] > 50 and runs[0] == runs[1], runs   # a frame parsed and summed: scores of instructions
    with pytest.raises(LookupError):   # a function the build does not call: said, not counted as 0
        instructions.count(bench, "BM_parse/1$", "weir_no_such_stage", 1)


def test_the_ab_burst_is_counted_where_the_benchmark_would_inline_it(bench):
    """BM_pipeline_ab_burst calls the pipeline through bench_ab_burst, kept a call: inlined, its instructions
    were the benchmark's own and the A/B figures were said to be uncountable."""
    first = instructions.count(bench, "BM_pipeline_ab_burst/0$", "bench_ab_burst", 32)
    pair = instructions.count(bench, "BM_pipeline_ab_burst/1$", "bench_ab_burst", 16)
    assert 100 < first < pair, (first, pair)   # a pair is a first copy and a second one


def test_the_counted_build_is_made_for_the_instruction_set_valgrind_decodes(bench):
    flags = open(os.path.join(os.path.dirname(os.path.dirname(bench)), "build.ninja")).read()
    assert f"-march={instructions.COUNT_MARCH}" in flags and "-march=native" not in flags


@pytest.mark.skipif(shutil.which("valgrind") is None or shutil.which("cc") is None,
                    reason="valgrind or cc is not installed")
def test_a_program_valgrind_cannot_run_is_said_so_not_counted(tmp_path):
    """What an AVX-512 instruction does under valgrind (SIGILL), done by ud2 on any CPU."""
    src = tmp_path / "ill.c"
    src.write_text("int main(void) { __builtin_trap(); }\n")
    subprocess.run(["cc", "-o", str(tmp_path / "ill"), str(src)], check=True)
    with pytest.raises(RuntimeError, match="valgrind cannot decode"):
        instructions.count(str(tmp_path / "ill"), "BM_parse/1$", "weir_parse_udp", 1)
