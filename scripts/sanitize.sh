#!/usr/bin/env bash
# The native engine under AddressSanitizer + UndefinedBehaviorSanitizer: builds a copy of native/
# with -fsanitize=address,undefined, then runs the engine tests, the hostile-server suite, the core
# run tests, the early-data tests and the trust tests (OCSP, CRL, mTLS) on the native engine (the default where it can carry the run) with libasan preloaded into every
# Node process (Node itself is not instrumented; the addon is). Passes only with zero reports.
#
# Leak checking is off: Node and V8 keep allocations to exit by design, and LSan cannot tell those
# from ours. Every SSL / SSL_SESSION the loop makes is freed on its paths (see handshake_loop.c).
# Usage: bash scripts/sanitize.sh [extra node --test args]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

work="$(mktemp -d "${TMPDIR:-/tmp}/tlsbench-sanitize.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/native" "$work/reports"
cp -r native/binding.gyp native/src "$work/native/"

echo "== sanitize: building native/ with ASan + UBSan =="
TLSBENCH_NATIVE_DIR="$work/native" TLSBENCH_NATIVE_SANITIZE=1 node scripts/build-native.mjs
addon="$work/native/build/Release/tlsbench_native.node"
[[ -f "$addon" ]] || { echo "sanitize: no sanitized build" >&2; exit 1; }

libasan="$(gcc -print-file-name=libasan.so)"
[[ -f "$libasan" ]] || { echo "sanitize: libasan not found (gcc -print-file-name=libasan.so)" >&2; exit 1; }

npx tsc -p .
files=(dist/test/engine-parity.test.js dist/test/hostile-servers.test.js dist/test/run-core.test.js
  dist/test/early-data.test.js dist/test/ocsp.test.js dist/test/crl.test.js dist/test/tls-mtls.test.js
  dist/test/native-target.test.js dist/test/server-target.test.js)

echo "== sanitize: tests on the native engine with $libasan preloaded =="
set +e
LD_PRELOAD="$libasan" \
ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$work/reports/asan" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$work/reports/ubsan" \
TLSBENCH_NATIVE_ADDON="$addon" \
  node --test --test-reporter=spec --test-concurrency=1 --test-timeout=1200000 "$@" "${files[@]}"
rc=$?
set -e

reports=("$work"/reports/*)
if [[ -e "${reports[0]}" ]]; then
  echo "== sanitize: ${#reports[@]} report(s) =="
  for r in "${reports[@]}"; do echo "--- $r"; head -60 "$r"; done
  exit 1
fi
if [[ $rc -ne 0 ]]; then
  echo "== sanitize: tests failed (exit $rc), no sanitizer report =="
  exit "$rc"
fi
echo "== sanitize: zero reports =="
