#!/usr/bin/env bash
# Runs the browser tests against bin/jupygo. Screenshots land in e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/playwright-core ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
	npm ci --no-audit --no-fund
fi
node --test --test-concurrency=1 ./*.test.mjs
