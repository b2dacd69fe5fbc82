#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium), used by the HTML report tests.
# Idempotent: skips when chromium already answers --version.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" chromium '[[ -x /usr/bin/chromium ]] && /usr/bin/chromium --version' chromium
