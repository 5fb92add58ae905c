#!/usr/bin/env bash
# Brings a Debian 12 machine from nothing to a built weir tree: packages,
# hugepages (or the --no-huge fallback), release build.  Idempotent, and
# quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential pkg-config meson ninja-build
  dpdk dpdk-dev libdpdk-dev            # EAL, ethdev, net_pcap/af_packet/memif/tap, testpmd
  libhyperscan-dev libjemalloc-dev libbenchmark-dev
  libpcap-dev libisal-dev libssl-dev   # captures, CRC32C, SHA-256 for manifests
  libmicrohttpd-dev                    # weir-control's /metrics
  libgnutls28-dev                      # a metrics certificate and its key checked together at --check
  libcmocka-dev libpcre2-dev           # unit tests (pcre2: the oracle for Hyperscan)
  python3 python3-pytest python3-scapy tshark iproute2 procps   # integration tests
  ethtool                              # veth tests: the sender's checksum offload off, so its packets carry real checksums
  prometheus openssl                   # a real scraper and promtool; certificates for the metrics-over-TLS test
  systemd                              # systemd-analyze verify and security, for the units' test
  strace                               # the hot-path hygiene test: no syscall in the worker loop
  python3-matplotlib                   # perf/appliance.py's chart
  valgrind                             # perf/instructions.py: instructions a unit of the stages (callgrind)
  librdkafka-dev kcat python3-confluent-kafka   # weir-export; weir-check --kafka reads Kafka back
  default-jre-headless maven           # a real Kafka broker for the export tests (scripts/kafka.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "setup: packages are missing and this is not root: run as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/hugepages.sh

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
ninja -C build >/dev/null
echo "setup: built weir in build/ ($(grep -m1 -o "'buildtype=[a-z]*'" build/meson-info/intro-buildoptions.json 2>/dev/null || echo release))"
