#!/usr/bin/env bash
# Installs a C compiler and OpenSSL's headers (gcc, libssl-dev) for the test fixtures built from C
# (test/fixtures/last-ticket-server.c: a TLS server behaving in ways no packaged server can be
# configured to). Idempotent: skips when cc builds against <openssl/ssl.h> already.
set -euo pipefail

if echo '#include <openssl/ssl.h>
int main(void) { return SSL_CTX_new(TLS_server_method()) == 0; }' | cc -x c -o /dev/null - -lssl -lcrypto 2>/dev/null; then
  echo "install-c-toolchain: cc and OpenSSL headers already there"
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "install-c-toolchain: cc or libssl-dev is missing and installing them needs root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt_stamp=/tmp/tlsbench-apt-updated
if [[ -z "$(find "$apt_stamp" -mmin -60 2>/dev/null)" ]]; then
  apt-get update
  touch "$apt_stamp"
fi
apt-get install -y --no-install-recommends gcc libc6-dev libssl-dev
echo "install-c-toolchain: installed"
