#!/usr/bin/env bash
# Runs the browser tests against bin/jupygo, and the tests of the headless
# collaboration client in collab/. Screenshots land in e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/playwright-core ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
	npm ci --no-audit --no-fund
fi
if [[ ! -d collab/node_modules/yjs ]] || [[ collab/package-lock.json -nt collab/node_modules/.package-lock.json ]]; then
	(cd collab && npm ci --no-audit --no-fund)
fi
node --test --test-concurrency=1 ./*.test.mjs ./collab/*.test.mjs
