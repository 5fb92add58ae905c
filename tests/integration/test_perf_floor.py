"""perf/floor.patch, weir against its floor (scripts/perf-ab.sh HEAD --patch perf/floor.patch): it still
applies to this tree and the file it patches compiles as the build compiles it, warning-free, so the
experiment perf/README.md quotes can be run again after the pipeline has moved on."""
import json
import os
import shlex
import shutil
import subprocess

from weir_harness import BUILD, ROOT

PATCH = os.path.join(ROOT, "perf", "floor.patch")
PATCHED = "dataplane/weir_pipeline_burst.c"


def test_the_floor_patch_applies_to_this_tree():
    r = subprocess.run(["git", "-C", ROOT, "apply", "--check", PATCH], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_floor_compiles_without_a_warning(tmp_path):
    os.makedirs(tmp_path / "dataplane")
    shutil.copy(os.path.join(ROOT, PATCHED), tmp_path / "dataplane")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "apply", PATCH], check=True)
    patched = tmp_path / PATCHED
    assert "floor_track(pl, in, n, port, now_ns, disp);" in patched.read_text()
    entry = next(e for e in json.load(open(os.path.join(BUILD, "compile_commands.json")))
                 if e["file"].endswith(PATCHED))
    args, out = [], str(tmp_path / "floor.o")
    it = iter(shlex.split(entry["command"]))
    for a in it:
        if a == "-MD":  # no dependency file: only whether it compiles
            continue
        if a in ("-MQ", "-MF", "-o"):
            next(it)
            continue
        args.append(str(patched) if a == entry["file"] else a)
    r = subprocess.run(args + ["-o", out, "-Werror"], cwd=entry["directory"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert os.path.getsize(out) > 0
