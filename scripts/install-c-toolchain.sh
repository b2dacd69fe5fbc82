#!/usr/bin/env bash
# Installs what builds C here: the compiler, make and Python for node-gyp (the native engine,
# built by npm install against Node's own headers), and OpenSSL's headers for the test fixtures
# built from C (test/fixtures/last-ticket-server.c: a TLS server behaving in ways no packaged
# server can be configured to). Idempotent: skips when all of them answer already.
set -euo pipefail
# The check prints a line when cc builds and links a program against OpenSSL's headers.
check='echo "#include <openssl/ssl.h>
int main(void) { return SSL_CTX_new(TLS_server_method()) == 0; }" | cc -x c -o /dev/null - -lssl -lcrypto \
  && command -v c++ >/dev/null && command -v make >/dev/null && command -v python3 >/dev/null && cc --version | head -1'
exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" c-toolchain "$check" gcc g++ make python3 libc6-dev libssl-dev
