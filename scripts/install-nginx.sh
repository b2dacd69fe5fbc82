#!/usr/bin/env bash
# Installs Debian's nginx (nginx-light) for the tests that run an external nginx target, and its
# stream module (libnginx-mod-stream: a TLS server that logs every handshake, request or not, which
# the client-cost bench reads to check each client's resumption). Idempotent: skips when `nginx -v`
# works and the module is there. The tests start their own nginx with their own
# config and prefix (test/support/nginx-server.ts), so the install must not leave a system
# nginx service running: package scripts are told not to start services (policy-rc.d), and
# a system nginx that the install started anyway is stopped.
set -euo pipefail

# Debian puts nginx in /usr/sbin, which a non-root PATH may lack.
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
if nginx_version="$("$nginx_bin" -v 2>&1)" && [[ -f "$stream_module" ]]; then
  echo "install-nginx: already installed: $nginx_version"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-nginx: nginx or its stream module is missing and installing it needs root" >&2
  exit 1
fi

# Keep the package's postinst from starting nginx on port 80. Only add a policy-rc.d when
# none exists, and remove only our own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  own_policy=1
fi
cleanup() { if [[ "$own_policy" == 1 ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# apt-get update once: install-nginx.sh and install-chromium.sh run one after the other
# in CI, so the second skips it when the first refreshed the lists in the last hour.
apt_stamp=/tmp/tlsbench-apt-updated
if [[ -z "$(find "$apt_stamp" -mmin -60 2>/dev/null)" ]]; then
  apt-get update
  touch "$apt_stamp"
fi
apt-get install -y --no-install-recommends nginx-light libnginx-mod-stream

# If a system nginx is running after all (pid file of the Debian default config), stop it.
if [[ -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
  echo "install-nginx: stopping the system nginx the package started"
  /usr/sbin/nginx -s quit 2>/dev/null || kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi

echo "install-nginx: installed: $(/usr/sbin/nginx -v 2>&1)"
