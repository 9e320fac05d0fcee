#!/usr/bin/env bash
# Builds the JupyterLab application into frontend/build, where embed.go picks
# it up. Idempotent: `npm ci` runs only when package-lock.json changed since
# the last install, and the rspack build only when one of its inputs changed
# since the last build. The SHA-256 of the inputs is stored in
# build/.inputs-sha256 once a build succeeds.
#
# Usage: bash frontend/build.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  *) echo "build.sh: unknown argument $1 (usage: build.sh [--force])" >&2; exit 2 ;;
esac

log() { echo "frontend: $*"; }

for tool in node npm gzip sha256sum; do
  command -v "$tool" >/dev/null || { echo "frontend: $tool not found on PATH" >&2; exit 1; }
done

# inputs_hash hashes every file the build reads from this folder, plus the
# Node version, which can change the output.
inputs_hash() {
  {
    node --version
    find package.json package-lock.json rspack.config.js build.sh src templates \
      -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
lock_stamp=node_modules/.jupygo-lock-sha256
if [[ $force == 1 || ! -f $lock_stamp || "$(cat "$lock_stamp")" != "$lock_hash" ]]; then
  log "installing packages (npm ci)"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > "$lock_stamp"
else
  log "packages up to date"
fi

want="$(inputs_hash)"
stamp=build/.inputs-sha256
if [[ $force == 0 && -f $stamp && -f build/static/index.html && "$(cat "$stamp")" == "$want" ]]; then
  log "build up to date ($want)"
  exit 0
fi

log "building JupyterLab (rspack production build)"
rm -f "$stamp"
# Keep build/README.md: it is committed so that go:embed finds the folder in
# a fresh clone.
find build -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
npx --no-install rspack --config rspack.config.js

for required in static/index.html static/package.json schemas themes; do
  [[ -e build/$required ]] || { echo "frontend: build/$required missing after the build" >&2; exit 1; }
done

# Pre-compress text assets so the server can send them with
# Content-Encoding: gzip. -n keeps names and times out of the .gz files, so
# the output stays byte-for-byte reproducible.
log "compressing text assets"
compressed=0
while IFS= read -r -d '' file; do
  gzip -9 -n -k -f "$file"
  if (( $(stat -c %s "$file.gz") * 10 >= $(stat -c %s "$file") * 9 )); then
    rm -f "$file.gz"  # saves less than 10 %: not worth a second copy
  else
    compressed=$((compressed + 1))
  fi
done < <(find build/static build/themes -type f -size +1k \
  \( -name '*.js' -o -name '*.css' -o -name '*.json' -o -name '*.svg' -o -name '*.txt' \
     -o -name '*.ttf' -o -name '*.eot' -o -name '*.otf' -o -name '*.map' -o -name '*.wasm' \) -print0)

echo "$want" > "$stamp"
files="$(find build -type f | wc -l)"
size="$(du -sh build | cut -f1)"
log "built $files files ($size, $compressed gzip copies) in $here/build"
