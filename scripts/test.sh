#!/usr/bin/env bash
# Sets up jupygo and runs every test: go vet, the Go tests with the race
# detector, the browser tests in headless Chromium, and JupyterHub's own
# test suite with jupygo proxy in configurable-http-proxy's place.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

# The Yjs tests compare against the real yjs library, the ydoc tests against
# JupyterLab's @jupyter/ydoc, and the collaboration tests run y-websocket's
# client, when their npm packages are installed beside them.
for js in yjs/testdata/js internal/ydoc/testdata/js internal/collab/testdata/js; do
	if [[ ! -f $js/node_modules/.package-lock.json ]] || \
		[[ $js/package-lock.json -nt $js/node_modules/.package-lock.json ]]; then
		(cd "$js" && npm ci --no-audit --no-fund)
	fi
done

echo "test: go vet"
go vet ./...

echo "test: go test -race"
go test -race -count=1 -timeout 20m ./...

echo "test: browser tests"
bash e2e/run.sh

echo "test: JupyterHub's test suite through jupygo proxy"
bash scripts/jupyterhub-suite.sh
echo "test: JupyterHub's test suite through jupygo proxy, with internal TLS"
bash scripts/jupyterhub-suite.sh --ssl
