#!/usr/bin/env bash
# Sets up jupygo and runs every test: go vet, the Go tests with the race
# detector, and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

# The Yjs tests compare against the real yjs library, and the collaboration
# tests run y-websocket's client, when their npm packages are installed
# beside them.
for dir in yjs/testdata/js internal/collab/testdata/js; do
	if [[ ! -d $dir/node_modules ]] || [[ $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		(cd "$dir" && npm ci --no-audit --no-fund)
	fi
done

echo "test: go vet"
go vet ./...

echo "test: go test -race"
go test -race -count=1 -timeout 20m ./...

echo "test: browser tests"
bash e2e/run.sh
