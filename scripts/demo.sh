#!/usr/bin/env bash
# Sets up jupygo and runs `jupygo server` on the demo folder. Extra arguments
# go to the server, for example: scripts/demo.sh --port 9000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p .cache/demo
# Work on a copy, so the committed sample stays as it is.
cp -n demo/* .cache/demo/ 2>/dev/null || true
exec bin/jupygo server --root-dir .cache/demo "$@"
