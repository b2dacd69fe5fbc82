#!/usr/bin/env bash
# Installs a C compiler and OpenSSL's headers (gcc, libssl-dev) for the test fixtures built from C
# (test/fixtures/last-ticket-server.c: a TLS server behaving in ways no packaged server can be
# configured to). Idempotent: skips when cc builds against <openssl/ssl.h> already.
set -euo pipefail
# The check prints a line when cc builds and links a program against OpenSSL's headers.
check='echo "#include <openssl/ssl.h>
int main(void) { return SSL_CTX_new(TLS_server_method()) == 0; }" | cc -x c -o /dev/null - -lssl -lcrypto && cc --version | head -1'
exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" c-toolchain "$check" gcc libc6-dev libssl-dev
