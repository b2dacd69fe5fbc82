#!/usr/bin/env bash
# Vendors Chart.js's UMD build (the one file the HTML report inlines) and its licence into
# vendor/chart.js/, from the npm registry's tarball of the version given (default: the one
# recorded in vendor/chart.js/VERSION). The file is read by a path inside this package, so no
# upgrade of a dependency can move it, and installing tlsbench does not pull 6 MB of Chart.js.
#
# Usage: bash scripts/vendor-chart-js.sh [VERSION]     then commit vendor/chart.js/
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/vendor/chart.js"
version="${1:-$(cat "$dest/VERSION" 2>/dev/null || true)}"
if [[ -z "$version" ]]; then
  echo "vendor-chart-js.sh: give a Chart.js version, e.g. 4.6.1" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/chart-js.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "chart.js@$version" >/dev/null)
tar -xzf "$work"/chart.js-"$version".tgz -C "$work"

mkdir -p "$dest"
# The page cannot follow a source map, and the map is not shipped: drop the comment.
sed -e '/^\/\/# sourceMappingURL=/d' "$work/package/dist/chart.umd.min.js" >"$dest/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$dest/LICENSE.md"
echo "$version" >"$dest/VERSION"
echo "vendored Chart.js $version into ${dest#"$root"/}: $(wc -c <"$dest/chart.umd.min.js") bytes"
