#!/usr/bin/env bash
# Benchmarks `jupygo server` against Debian's jupyter-server side by side:
# start time, idle RSS, kernel start overhead, 1+1 execute round trips and
# GET and PUT of a 5 MB notebook. Both servers are measured through the
# public REST and kernel WebSocket protocols by bench/serverbench.
#
# Usage: bench/server.sh [serverbench flags]
#   e.g. bench/server.sh -servers jupyter-server -executes 50
# Environment: PYTHON (default /usr/bin/python3) is the Python that has
# jupyter_server and ipykernel.
#
# It builds bin/serverbench and bin/jupygo from the working tree. When
# bin/jupygo cannot be built, only jupyter-server is measured. Results go to bench/results/ as JSON.
set -euo pipefail

cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}

if ! "$python" -c 'import jupyter_server, ipykernel' 2>/dev/null; then
	echo "server.sh: $python cannot import jupyter_server and ipykernel;" \
		"install python3-jupyter-server and python3-ipykernel" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/serverbench.XXXXXX")
pidfile=$work/pids
bench_pid=

# stop_pids sends SIGTERM to the recorded pids that still run a command
# naming the work folder (so a reused pid is left alone), waits up to 15 s
# and sends SIGKILL to what is left.
stop_pids() {
	[[ -f $pidfile ]] || return 0
	local pid live=()
	while read -r pid; do
		if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$work"; then
			live+=("$pid")
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done <"$pidfile"
	((${#live[@]})) || return 0
	for _ in $(seq 150); do
		local left=0
		for pid in "${live[@]}"; do
			kill -0 "$pid" 2>/dev/null && left=1
		done
		((left)) || return 0
		sleep 0.1
	done
	for pid in "${live[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

cleanup() {
	if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
		# serverbench stops its servers and kernels on SIGTERM.
		kill -TERM "$bench_pid" 2>/dev/null || true
		for _ in $(seq 300); do
			kill -0 "$bench_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$bench_pid" 2>/dev/null || true
	fi
	stop_pids
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o bin/serverbench ./bench/serverbench

servers=jupyter-server,jupygo
# Always rebuilt, so that a stale binary is never measured; go build
# reuses its cache and takes a second when nothing changed.
built=1
if ! go build -o bin/jupygo ./cmd/jupygo; then
	echo "server.sh: bin/jupygo does not build; measuring jupyter-server alone" >&2
	servers=jupyter-server
	built=0
fi

# The measured binary is a copy, installed as a release would be. A binary
# freshly written by the linker sits in the page cache in large folios,
# which the kernel maps whole, and that adds about 5 MiB of file-backed
# pages to the idle RSS that an installed copy does not show.
jupygo=bin/jupygo
nohub=()
if ((built)); then
	jupygo=$work/jupygo
	install -m 755 bin/jupygo "$jupygo"
	# The same server built without the hub (docs/design.md), measured
	# beside it for its idle RSS.
	if go build -tags nohub -o bin/jupygo-nohub ./cmd/jupygo; then
		install -m 755 bin/jupygo-nohub "$work/jupygo-nohub"
		nohub=(-jupygo-nohub "$work/jupygo-nohub")
		servers+=,jupygo-nohub
	fi
fi

mkdir -p "$work/sandboxes" bench/results
bin/serverbench -python "$python" -jupygo "$jupygo" "${nohub[@]}" -servers "$servers" \
	-workdir "$work/sandboxes" -pidfile "$pidfile" -out bench/results "$@" &
bench_pid=$!
rc=0
wait "$bench_pid" || rc=$?
bench_pid=
exit "$rc"
