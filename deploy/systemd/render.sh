#!/usr/bin/env bash
# Renders the units for an installation:
#   deploy/systemd/render.sh OUTDIR BINDIR CONFIG LOGDIR [USER]
# e.g. deploy/systemd/render.sh /etc/systemd/system /usr/local/bin /etc/weir/weir.conf /var/lib/weir weir
set -euo pipefail
out=$1 bindir=$2 config=$3 logdir=$4 user=${5:-weir}
here=$(dirname "$0")
mkdir -p "$out"
for u in weir-dataplane weir-control weir-export; do
  sed -e "s|@BINDIR@|$bindir|g" -e "s|@CONFIG@|$config|g" -e "s|@LOGDIR@|$logdir|g" -e "s|@USER@|$user|g" \
    "$here/$u.service.in" > "$out/$u.service"
done
echo "rendered weir-dataplane.service, weir-control.service and weir-export.service in $out"
