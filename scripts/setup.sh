#!/usr/bin/env bash
# Sets up everything jupygo needs on a Debian or Ubuntu machine, then builds
# the frontend and the binary. Safe to run again: each step is skipped when
# its result is already there.
#
#   scripts/setup.sh          system packages, frontend, bin/jupygo
#   scripts/setup.sh --test   also the packages the tests use
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

packages=(libzmq3-dev pkg-config python3-ipykernel)
if [[ $want_test == 1 ]]; then
	packages+=(chromium python3-nbformat python3-jupyter-server jupyterhub postgresql libnss3-tools
		jupyter-nbconvert)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing Debian packages: ${missing[*]}"
	sudo=""
	[[ $(id -u) != 0 ]] && sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for tool in go node npm; do
	command -v "$tool" >/dev/null || { echo "setup: $tool is required and not on PATH" >&2; exit 1; }
done

bash frontend/build.sh

echo "setup: building bin/jupygo"
mkdir -p bin
go build -o bin/jupygo ./cmd/jupygo
echo "setup: done ($(bin/jupygo version))"
