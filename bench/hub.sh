#!/usr/bin/env bash
# Benchmarks three hubs side by side: Debian's JupyterHub 3.0 with
# configurable-http-proxy and jupyterhub-singleuser, `jupygo hub`, and
# JupyterHub 3.0 with `jupygo proxy` in configurable-http-proxy's place. It
# measures hub cold start, spawn latency through the proxy, and memory with
# 0, 10 and 30 idle users. Then wrk measures proxy throughput and latency,
# with one route and with 1,000. The hubs are driven through the JupyterHub
# REST API by bench/hubbench, with the token of a service from their
# configuration.
#
# Usage: bench/hub.sh [hubbench flags]
#   e.g. bench/hub.sh -hubs jupygo -users 0,10
#        bench/hub.sh -hubs jupyterhub,jupyterhub-jupygo-proxy -users 0
# Needs: Debian's jupyterhub and wrk packages.
# Environment: PYTHON (default /usr/bin/python3) is the Python that has
# jupyterhub. CHP picks configurable-http-proxy: "debian" (the default when
# Debian's node-configurable-http-proxy, which Debian's jupyterhub depends
# on, is installed) or "npm", which installs release 5.3.0 with npm into
# .cache/hubbench/ at the first run.
#
# It builds bin/hubbench and bin/jupygo from the working tree. Results go to
# bench/results/ as JSON; `bin/hubbench -report FILE` prints them again.
set -euo pipefail

cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}
debian_chp=/usr/share/nodejs/configurable-http-proxy/bin/configurable-http-proxy
chp_from=${CHP:-}
if [[ -z $chp_from ]]; then
	chp_from=npm
	[[ -f $debian_chp ]] && chp_from=debian
fi

if ! "$python" -c 'import jupyterhub' 2>/dev/null; then
	echo "hub.sh: $python cannot import jupyterhub; install Debian's jupyterhub package" >&2
	exit 1
fi
if ! command -v wrk >/dev/null; then
	echo "hub.sh: wrk is missing; install Debian's wrk package" >&2
	exit 1
fi
case $chp_from in
debian)
	chp=/usr/bin/configurable-http-proxy
	# Debian's package keeps its modules in /usr/share/nodejs, which only
	# Debian's own Node.js searches; another Node.js on PATH (such as
	# NodeSource's) finds them through NODE_PATH. JupyterHub passes its
	# environment on to the proxy.
	export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
	;;
npm)
	chp_dir=.cache/hubbench/chp-5.3.0
	chp=$chp_dir/node_modules/.bin/configurable-http-proxy
	if [[ ! -x $chp ]]; then
		mkdir -p "$chp_dir"
		npm install --prefix "$chp_dir" --no-audit --no-fund --loglevel=error \
			configurable-http-proxy@5.3.0 >&2
	fi
	;;
*)
	echo "hub.sh: CHP=$chp_from is invalid; want debian or npm" >&2
	exit 1
	;;
esac
if ! chp_version=$("$chp" --version 2>&1); then
	echo "hub.sh: $chp --version failed: $chp_version" >&2
	exit 1
fi
echo "hub.sh: configurable-http-proxy $chp_version ($chp_from, $chp)" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/hubbench.XXXXXX")
bench_pid=

# stop_pids sends SIGTERM to every process whose command or working folder
# is in the work folder: hubs, proxies and user servers, but no reused pid.
# It waits up to 15 s and sends SIGKILL to what is left.
stop_pids() {
	local pid cwd live=()
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		((pid == $$)) && continue
		cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
		if [[ $cwd == "$work"/* ]] ||
			{ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$work"; then
			live+=("$pid")
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
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
		# hubbench stops its hubs, their proxies and user servers on SIGTERM.
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

go build -o bin/hubbench ./bench/hubbench
go build -o bin/jupygo ./cmd/jupygo
# The measured binaries are copies in the work folder, installed as a
# release would be (a freshly linked file maps in large folios and shows
# more RSS), and so that every process they start names the work folder.
install -m 755 bin/jupygo "$work/jupygo"
install -m 755 bin/hubbench "$work/hubbench"

mkdir -p "$work/hubs" bench/results
"$work/hubbench" -python "$python" -jupygo "$work/jupygo" -chp "$chp" \
	-workdir "$work/hubs" -out bench/results "$@" &
bench_pid=$!
rc=0
wait "$bench_pid" || rc=$?
bench_pid=
exit "$rc"
