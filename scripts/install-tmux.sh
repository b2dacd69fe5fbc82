#!/usr/bin/env bash
# Installs Debian's tmux, the terminal the live-status tests run tlsbench in (a pseudo-terminal
# of a set width whose screen they read back with capture-pane).
# Idempotent: skips when tmux already answers -V.
set -euo pipefail

if version="$(tmux -V 2>/dev/null)"; then
  echo "install-tmux: already installed: $version"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-tmux: tmux is missing and installing it needs root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update once across the install scripts (see install-nginx.sh).
apt_stamp=/tmp/tlsbench-apt-updated
if [[ -z "$(find "$apt_stamp" -mmin -60 2>/dev/null)" ]]; then
  apt-get update
  touch "$apt_stamp"
fi
apt-get install -y --no-install-recommends tmux
echo "install-tmux: installed: $(tmux -V)"
