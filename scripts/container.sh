#!/usr/bin/env bash
# The container, built and run here with podman (there is no Docker engine,
# and no image registry is reachable):
#   1. a Debian 12 base image made with debootstrap and imported (once);
#   2. docker/Dockerfile: weir built in one stage, run from a slim one;
#   3. the demo in the container, to PASS: on the host's hugepages when they
#      can be mounted in, else --no-huge.
#   WEIR_CONTAINER_MESSAGES  the demo's messages (default 200000)
#   WEIR_DEBIAN_MIRROR       debootstrap's mirror (default: this machine's apt source)
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=$PWD/docker/containers.conf
base=localhost/weir-debian:12
image=localhost/weir:latest

missing=()
for p in podman buildah debootstrap runc catatonit uidmap fuse-overlayfs slirp4netns containernetworking-plugins; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "container: run as root (apt-get install ${missing[*]}; podman as root)" >&2; exit 1; }
  echo "container: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! podman image exists "$base"; then
  mirror=${WEIR_DEBIAN_MIRROR:-$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
    /etc/apt/sources.list.d/ 2>/dev/null | awk 'NR == 1 {print $2}' || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d /tmp/weir-debian-XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "container: debootstrap bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  tar -C "$root" -c . | podman import --quiet - "$base" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

echo "container: building $image (docker/Dockerfile, base $base)"
t0=$(date +%s)
podman build --quiet --network=host --build-arg BASE="$base" -f docker/Dockerfile -t "$image" . >/dev/null
echo "container: built in $(( $(date +%s) - t0 )) s, $(podman image inspect "$image" --format '{{.Size}}' \
  | awk '{printf "%.0f MB", $1 / 1e6}')"

# Hugepages are the host's: mounted in when there are enough free, else the
# demo falls back to --no-huge by itself (rings in /dev/shm: --shm-size).
huge=()
free_mb=$(awk '/^HugePages_Free:/ {f=$2} /^Hugepagesize:/ {s=$2} END {print int(f * s / 1024)}' /proc/meminfo)
if grep -q '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts && [ "$free_mb" -ge 768 ] \
   && [ "${WEIR_FORCE_NO_HUGE:-0}" != 1 ]; then
  huge=(-v /dev/hugepages:/dev/hugepages)
fi
echo "container: the demo in $image (${huge[*]:-no hugepages: --no-huge})"
podman run --rm --network=none --shm-size=1g "${huge[@]}" \
  -e WEIR_DEMO_MESSAGES="${WEIR_CONTAINER_MESSAGES:-200000}" "$image"
