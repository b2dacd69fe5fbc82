#!/usr/bin/env bash
# Installs Debian's tmux, the terminal the live-status tests run tlsbench in (a pseudo-terminal
# of a set width whose screen they read back with capture-pane).
# Idempotent: skips when tmux already answers -V.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" tmux 'tmux -V' tmux
