#!/usr/bin/env bash
# The seeded fault explorer at length (tests/explore/explore.py): fresh seeds for SECONDS (default 3600),
# or one SEED's schedule again.  Every failure prints its seed and its shrunk schedule; exits 1 on any.
#   scripts/explore.sh                # an hour of fresh seeds
#   scripts/explore.sh 600 1234       # seed 1234 (SECONDS is then ignored)
#   WEIR_EXPLORE_ARGS=--open-defects scripts/explore.sh 3600   # with the faults of defects not fixed yet
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null || exit 1
seconds=${1:-3600}
if [ -n "${2:-}" ]; then
  exec /usr/bin/python3 tests/explore/explore.py --seed "$2" ${WEIR_EXPLORE_ARGS:-}
fi
exec /usr/bin/python3 tests/explore/explore.py --seconds "$seconds" ${WEIR_EXPLORE_ARGS:-}
