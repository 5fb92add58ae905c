#!/usr/bin/env bash
# A change against its own base in one run (perf/ab.py): builds REV in a worktree under out/perf-ab/trees,
# runs the key stage benchmarks and appliance cases for REV and this checkout taking turns, and prints
# head/base ratios (medians).  Every change that touches the hot path reports its figures this way.
#   scripts/perf-ab.sh main              # this checkout against main
#   scripts/perf-ab.sh HEAD~1 --rounds 5 --no-appliance
#   scripts/perf-ab.sh HEAD --patch perf/floor.patch   # against its floor (perf/floor.patch)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: scripts/perf-ab.sh REV [--rounds N] [--stages REGEX] [--cases a,b] [--no-appliance] [--patch FILE]" >&2
  exit 2
fi
scripts/setup.sh >/dev/null
exec /usr/bin/python3 perf/ab.py "$@"
