#!/usr/bin/env bash
# Runs the test suite of Debian's JupyterHub 3.0 (the jupyterhub.tests
# package) with `jupygo proxy` in configurable-http-proxy's place, and fails
# on any failure other than the known ones listed in
# scripts/jupyterhub-suite.known-failures, which fail with
# configurable-http-proxy 5.3 as well (docs/proxy.md).
#
#   scripts/jupyterhub-suite.sh                  every test module
#   scripts/jupyterhub-suite.sh --subset         the modules that use the proxy
#   scripts/jupyterhub-suite.sh --module test_proxy   one module; repeatable
#   scripts/jupyterhub-suite.sh --ssl            with internal TLS, as SSL_ENABLED=1
#   scripts/jupyterhub-suite.sh --proxy DIR      test DIR/configurable-http-proxy instead
#   scripts/jupyterhub-suite.sh -- ARGS...       extra pytest arguments
#
# As root it runs the suite as the user nobody in namespaces of its own: a
# network namespace because the suite listens on fixed ports (8001, 8081,
# 54321), a mount namespace with a private /tmp because its spawners create
# /tmp/<username> folders, and a PID namespace that ends every process the
# suite leaves behind. The namespace's ephemeral ports (20000-49999) leave
# out the suite's fixed ports, 54321 and 55432 among them, which one of its
# own client connections could otherwise hold when a test binds them. It
# runs as nobody because jupyter_server refuses to start as root. Other
# users run it directly, and then those ports must be free.
set -euo pipefail
cd "$(dirname "$0")/.."

# The modules whose tests send requests through the proxy or change its
# routes. The others at most start it with a hub, and test the hub's
# database, roles, scopes and helpers.
subset=(test_proxy test_api test_pages test_services test_services_auth test_singleuser
	test_named_servers test_internal_ssl_connections test_spawner test_auth test_app)

modules=()
proxy_dir=""
ssl=""
pytest_args=()
while (($#)); do
	case "$1" in
	--subset) modules+=("${subset[@]}") ;;
	--module) modules+=("$2"); shift ;;
	--ssl) ssl=1 ;;
	--proxy) proxy_dir=$(cd "$2" && pwd -P); shift ;;
	--) shift; pytest_args=("$@"); break ;;
	*) echo "jupyterhub-suite: unknown argument $1; see the top of $0" >&2; exit 2 ;;
	esac
	shift
done
if [[ $(id -u) == 0 && $proxy_dir == /tmp/* ]]; then
	echo "jupyterhub-suite: --proxy $proxy_dir is under /tmp, which the suite's" \
		"mount namespace replaces; install it elsewhere, such as /var/tmp" >&2
	exit 2
fi

bash scripts/debian-packages.sh jupyterhub python3-pytest python3-pytest-asyncio \
	python3-pytest-timeout python3-bs4 python3-jupyter-server python3-nbclassic \
	iproute2 util-linux

tests=/usr/lib/python3/dist-packages/jupyterhub/tests
work=$(mktemp -d /var/tmp/jupyterhub-suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/home" "$work/bin" "$work/tmp"

if [[ -z $proxy_dir ]]; then
	# Run under configurable-http-proxy's name, jupygo runs `jupygo proxy`.
	go build -o "$work/bin/configurable-http-proxy" ./cmd/jupygo
	proxy_dir=$work/bin
fi
echo "jupyterhub-suite: proxy $("$proxy_dir/configurable-http-proxy" --version)"

targets=("$tests")
if ((${#modules[@]})); then
	targets=()
	for m in "${modules[@]}"; do targets+=("$tests/$m.py"); done
fi

deselect=()
while read -r id _; do
	[[ -z $id || $id == \#* ]] && continue
	deselect+=(--deselect "$id")
done <scripts/jupyterhub-suite.known-failures

pytest=(/usr/bin/python3 -m pytest -p no:cacheprovider --rootdir "$tests"
	-o asyncio_mode=auto -W ignore::pytest.PytestUnknownMarkWarning
	--timeout 120 -q -rfE "${deselect[@]}" "${targets[@]}" "${pytest_args[@]}")
env=(HOME="$work/home" TMPDIR=/tmp PATH="$proxy_dir:/usr/local/bin:/usr/bin:/bin"
	PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8)
[[ -n $ssl ]] && env+=(SSL_ENABLED=1)

cd "$work/home"
start=$(date +%s)
status=0
if [[ $(id -u) == 0 ]]; then
	chown nobody "$work/home"
	chmod 1777 "$work/tmp"
	timeout 2400 nice unshare --net --mount --pid --fork --kill-child -- sh -c \
		'ip link set lo up && echo "20000 49999" >/proc/sys/net/ipv4/ip_local_port_range &&
		mount --bind "$0" /tmp &&
		exec setpriv --reuid nobody --regid nogroup --clear-groups "$@"' \
		"$work/tmp" env -i "${env[@]}" "${pytest[@]}" || status=$?
else
	timeout 2400 nice env -i "${env[@]}" "${pytest[@]}" || status=$?
fi
echo "jupyterhub-suite: exit status $status after $(($(date +%s) - start)) s"
exit "$status"
