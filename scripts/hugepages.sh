#!/usr/bin/env bash
# Reserves and mounts 2 MiB hugepages when this machine lets us; otherwise
# says so.  Writes build/eal-mem.env with WEIR_EAL_MEM, the EAL memory
# arguments the demo and tests put in their configs: hugepages, or --no-huge
# (rings and counters then live in /dev/shm files).
set -euo pipefail
cd "$(dirname "$0")/.."
want=${WEIR_HUGEPAGES:-1024}     # 2 GiB: mempools, records rings, tests back to back
need_mb=${WEIR_HUGEPAGE_MB_NEEDED:-768}

if [ -w /proc/sys/vm/nr_hugepages ]; then
  cur=$(cat /proc/sys/vm/nr_hugepages)
  if [ "$cur" -lt "$want" ]; then
    echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
  if ! grep -q '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null || true
  fi
fi

free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
page_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
free_mb=$(( free_pages * page_kb / 1024 ))
mkdir -p build
if [ "${WEIR_FORCE_NO_HUGE:-0}" != 1 ] && [ "$free_mb" -ge "$need_mb" ] && grep -q hugetlbfs /proc/mounts; then
  echo "WEIR_EAL_MEM='-m 512'" > build/eal-mem.env
  echo "hugepages: ${free_mb} MiB free in 2 MiB pages"
else
  echo "WEIR_EAL_MEM='--no-huge -m 512'" > build/eal-mem.env
  echo "hugepages: only ${free_mb} MiB free (need ${need_mb}): using --no-huge (slower; rings in /dev/shm)"
fi
