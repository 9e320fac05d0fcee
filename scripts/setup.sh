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

bash scripts/debian-packages.sh "${packages[@]}"

for tool in go node npm; do
	command -v "$tool" >/dev/null || { echo "setup: $tool is required and not on PATH" >&2; exit 1; }
done

bash frontend/build.sh

echo "setup: building bin/jupygo"
mkdir -p bin
go build -o bin/jupygo ./cmd/jupygo
echo "setup: done ($(bin/jupygo version))"
