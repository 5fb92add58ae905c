#!/usr/bin/env bash
# Runs every test: set-up from nothing (scripts/setup.sh), the C unit tests
# under `meson test`, then the integration tests (pytest) that drive the real
# binaries over DPDK virtual devices, and the seeded fault explorer, bounded.
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

echo "== unit tests (cmocka, meson test)"
meson test -C build --suite unit --print-errorlogs
unit_rc=$?

echo "== structure, integration and fault-explorer tests (pytest: the tree's shape; real binaries on net_pcap /"
echo "   net_af_packet; the explorer's regressions and WEIR_EXPLORE_SECONDS (240) of fresh seeds, tests/explore)"
/usr/bin/python3 -m pytest tests/structure tests/integration tests/explore -v -p no:cacheprovider \
  --junitxml=build/integration.xml \
  ${WEIR_PYTEST_ARGS:-}
int_rc=$?

echo "== sanitizers (scripts/sanitize.sh: ASan+UBSan and TSan unit tests, a TSan live drain)"
scripts/sanitize.sh
san_rc=$?

/usr/bin/python3 - "$unit_rc" "$int_rc" "$san_rc" <<'PY'
import json, re, sys, xml.etree.ElementTree as ET
unit_rc, int_rc, san_rc = (int(a) for a in sys.argv[1:4])


def cmocka(testlog):
    """passed, failed of the cmocka suites in one build's meson test log"""
    up = uf = 0
    try:
        for line in open(testlog):
            t = json.loads(line)
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            p = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
            f = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
            if t.get("result") != "OK" and f == 0:
                f = 1  # crashed or timed out before cmocka could say
            up, uf = up + p, uf + f
    except OSError:
        uf += 1
    return up, uf


def junit(path):
    """passed, failed, skipped of a pytest junit file"""
    ip = ifl = isk = 0
    try:
        for s in ET.parse(path).getroot().iter("testsuite"):
            n, fails, errs, skips = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
            ip, ifl, isk = ip + n - fails - errs - skips, ifl + fails + errs, isk + skips
    except (OSError, ET.ParseError):
        ifl += 1
    return ip, ifl, isk


up, uf = cmocka("build/meson-logs/testlog.json")
ip, ifl, isk = junit("build/integration.xml")
sp = sf = 0
for b in ("build-asan", "build-tsan"):
    p, f = cmocka(f"{b}/meson-logs/testlog.json")
    sp, sf = sp + p, sf + f
p, f, _ = junit("build-tsan/sanitize.xml")
sp, sf = sp + p, sf + f
if san_rc != 0 and sf == 0:
    sf = 1
if int_rc not in (0, 1) and ifl == 0:
    ifl = 1  # pytest could not run (usage error, no tests collected)
if unit_rc != 0 and uf == 0:
    uf = 1
print(f"unit: {up} passed, {uf} failed; integration: {ip} passed, {ifl} failed, {isk} skipped; "
      f"sanitizers: {sp} passed, {sf} failed")
print(f"{up + ip + sp} passed, {uf + ifl + sf} failed" + (f", {isk} skipped" if isk else ""))
sys.exit(1 if uf + ifl + sf else 0)
PY
