#!/usr/bin/env bash
# Sets up jupygo and runs every test: go vet, the Go tests with the race
# detector, and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

echo "test: go vet"
go vet ./...

echo "test: go test -race"
go test -race -count=1 -timeout 20m ./...

echo "test: browser tests"
bash e2e/run.sh
