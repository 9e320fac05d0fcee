#!/usr/bin/env bash
# Sets up jupygo and runs the hub with its built-in configuration: local
# accounts, SQLite and http://127.0.0.1:8000, with its files in
# .cache/demo-hub. The admin's home folder starts with a copy of the demo
# notebooks. Extra arguments go to `jupygo hub`, for example:
#   scripts/demo.sh --port 9000
# `scripts/demo.sh server [FLAGS]` runs the single-user `jupygo server` on a
# copy of the demo folder instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [[ ${1:-} == server ]]; then
	shift
	mkdir -p .cache/demo
	# Work on a copy, so the committed sample stays as it is.
	cp -n demo/* .cache/demo/ 2>/dev/null || true
	exec bin/jupygo server --root-dir .cache/demo "$@"
fi

data=.cache/demo-hub
mkdir -p -m 0700 "$data" "$data/users" "$data/users/admin"
cp -n demo/* "$data/users/admin/" 2>/dev/null || true
exec bin/jupygo hub --data-dir "$data" "$@"
