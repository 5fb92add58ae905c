"""perf/floor.patch (weir against its floor: scripts/perf-ab.sh HEAD --patch perf/floor.patch) and
perf/bound.patch (the two largest levers above the floor, taken out whole): each still applies to this tree
and the file it patches compiles as the build compiles it, warning-free, so the experiments perf/README.md
quotes can be run again after the pipeline has moved on."""
import json
import os
import shlex
import shutil
import subprocess

import pytest

from weir_harness import BUILD, ROOT

# the patch, the file it patches, and a line only the patched file has
PATCHES = {
    "floor": ("perf/floor.patch", "dataplane/weir_pipeline_burst.c", "floor_track(pl, in, n, port, now_ns, disp);"),
    "bound": ("perf/bound.patch", "dataplane/weir_pipeline.c", "/* BOUND: the blocks trusted, not walked */"),
}


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_the_patch_applies_to_this_tree(name):
    r = subprocess.run(["git", "-C", ROOT, "apply", "--check", os.path.join(ROOT, PATCHES[name][0])],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_the_patched_file_compiles_without_a_warning(tmp_path, name):
    patch, patched_file, marker = PATCHES[name]
    os.makedirs(tmp_path / "dataplane")
    shutil.copy(os.path.join(ROOT, patched_file), tmp_path / "dataplane")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "apply", os.path.join(ROOT, patch)], check=True)
    patched = tmp_path / patched_file
    assert marker in patched.read_text()
    entry = next(e for e in json.load(open(os.path.join(BUILD, "compile_commands.json")))
                 if e["file"].endswith(patched_file))
    args, out = [], str(tmp_path / "patched.o")
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
