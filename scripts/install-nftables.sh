#!/usr/bin/env bash
# Installs Debian's nftables: the tcp.reset fixture (test/hostile/reset-at-connect.ts) has the
# kernel of a network namespace made for the test answer the TCP handshake's last packet with a
# reset, the one way to reset a connection before the client has sent a byte, every time.
# Idempotent: skips when nft already answers --version.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" nftables 'nft --version' nftables
