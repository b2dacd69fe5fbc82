#!/usr/bin/env bash
# Installs a Debian package a test needs, once: skips when VERSION-COMMAND already answers.
# Usage: bash scripts/apt-install.sh NAME 'VERSION-COMMAND' PACKAGE...
# (install-nginx.sh does more: it keeps the package from starting a system service.)
set -euo pipefail

name="$1" check="$2"
shift 2

if version="$(bash -c "$check" 2>/dev/null)"; then
  echo "install-$name: already installed: $version"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-$name: $name is missing and installing it needs root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update once: the install scripts run one after the other in CI, so the later ones
# skip it when an earlier one refreshed the lists in the last hour.
apt_stamp=/tmp/tlsbench-apt-updated
if [[ -z "$(find "$apt_stamp" -mmin -60 2>/dev/null)" ]]; then
  apt-get update
  touch "$apt_stamp"
fi
apt-get install -y --no-install-recommends "$@"
echo "install-$name: installed: $(bash -c "$check" 2>/dev/null || echo '?')"
