#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium), used by the HTML report test.
# Idempotent: skips when chromium already answers --version.
set -euo pipefail

if [[ -x /usr/bin/chromium ]] && version="$(/usr/bin/chromium --version 2>/dev/null)"; then
  echo "install-chromium: already installed: $version"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-chromium: chromium is missing and installing it needs root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update once: install-nginx.sh and install-chromium.sh run one after the other
# in CI, so the second skips it when the first refreshed the lists in the last hour.
apt_stamp=/tmp/tlsbench-apt-updated
if [[ -z "$(find "$apt_stamp" -mmin -60 2>/dev/null)" ]]; then
  apt-get update
  touch "$apt_stamp"
fi
apt-get install -y --no-install-recommends chromium
echo "install-chromium: installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
