#!/usr/bin/env bash
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer and under
# ThreadSanitizer, and one live drain with /metrics scraped all along under
# ThreadSanitizer.  Each sanitizer gets its own build tree (build-asan,
# build-tsan).  Ends with "N passed, N failed"; part of scripts/test.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
passed=0 failed=0
for kind in asan tsan; do
  san=$([ $kind = asan ] && echo address,undefined || echo thread)
  dir=build-$kind
  if [ ! -f $dir/build.ninja ]; then
    meson setup $dir --buildtype=debugoptimized -Db_sanitize=$san -Db_lundef=false -Db_lto=false -Dtests=true >/dev/null || exit 1
  fi
  ninja -C $dir >/dev/null || { echo "sanitize: $kind build failed"; exit 1; }
  echo "== unit tests under $san"
  # Sanitized code runs several times slower (TSan's log_reader took over
  # the 60 s a unit test is given, once, on a busy 2-core machine).
  if meson test -C $dir --suite unit --print-errorlogs --timeout-multiplier 5; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "== a live drain scraped all along, weir-control under thread"
if WEIR_TSAN_BUILD=build-tsan /usr/bin/python3 -m pytest tests/sanitize -v -p no:cacheprovider \
    --junitxml=build-tsan/sanitize.xml; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
echo "sanitize: $passed passed, $failed failed"
[ $failed -eq 0 ]
