#!/usr/bin/env bash
# Benchmarks the Go yjs package against yjs and ywasm (yrs compiled to
# WebAssembly) under node, side by side, on the automerge-paper editing
# trace: replay time and retained memory, encoding and decoding the final
# state, and applying the trace as one update per edit.
#
# Usage: bench/yjs.sh [yjsbench flags]
#   e.g. bench/yjs.sh -runs 3 -impls go,yjs
# Environment: NODE (default node) is node 20 or later.
#
# It installs the pinned node packages into bench/yjsbench/node_modules
# with npm ci when they are missing or older than package-lock.json,
# builds bin/yjsbench and runs it. Results go to bench/results/ as JSON.
set -euo pipefail

cd "$(dirname "$0")/.."
node=${NODE:-node}
js=bench/yjsbench

major=$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((major < 20)); then
	echo "yjs.sh: $node is not node 20 or later; set NODE to one" >&2
	exit 1
fi

if [[ ! -f $js/node_modules/.package-lock.json ||
	$js/package-lock.json -nt $js/node_modules/.package-lock.json ]]; then
	echo "yjs.sh: installing the node packages of $js" >&2
	(cd "$js" && npm ci --no-audit --no-fund)
fi

go build -o bin/yjsbench ./bench/yjsbench
exec bin/yjsbench -node "$node" -script "$js/bench.mjs" "$@"
