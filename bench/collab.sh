#!/usr/bin/env bash
# Benchmarks collaboration rooms: first sync of a 2,000-cell notebook,
# fan-out latency of typed characters to 20 and 50 clients, awareness
# latency, and the server's CPU time and memory. The reference target is the
# reference Yjs server, @y/websocket-server 0.1.1 from npm; the jupygo target
# is `jupygo server --collaborative`. With both, the report adds the ratio
# jupygo/reference of every figure.
#
# Usage: bench/collab.sh [bench.mjs options]
#   e.g. bench/collab.sh --targets reference,jupygo --clients 20,50
#   bench/collab.sh --targets reference,jupygo --runs 3
#   runs each target three times, in turn, and reports each figure's median.
#   bench/collab.sh --targets reference,jupygo --server-cpus 0 --client-cpus 1
#   runs the servers and the node clients on separate CPUs (taskset).
#   bench/collab.sh --help lists the options.
# Environment: NODE (default node) is node 20 or later.
#
# It installs the pinned node packages into e2e/collab/node_modules with
# npm ci when they are missing or older than package-lock.json, and builds
# bin/jupygo when an argument names the jupygo target. Every server listens
# on a free port of 127.0.0.1. One run with the defaults takes about 2
# minutes per target.
set -euo pipefail

cd "$(dirname "$0")/.."
node=${NODE:-node}
js=e2e/collab

major=$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((major < 20)); then
	echo "collab.sh: $node is not node 20 or later; set NODE to one" >&2
	exit 1
fi

if [[ ! -f $js/node_modules/.package-lock.json ||
	$js/package-lock.json -nt $js/node_modules/.package-lock.json ]]; then
	echo "collab.sh: installing the node packages of $js" >&2
	(cd "$js" && npm ci --no-audit --no-fund)
fi

if [[ " $* " == *jupygo* ]]; then
	go build -o bin/jupygo ./cmd/jupygo
fi
exec "$node" --expose-gc "$js/bench.mjs" "$@"
