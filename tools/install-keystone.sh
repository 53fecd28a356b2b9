#!/usr/bin/env bash
# Installs OpenStack Keystone into a virtualenv of its own, for the functional tests.
#
# Keystone brings Flask, pysaml2, oslo.db and more that netweave does not use, and
# its release pins move on their own schedule; a separate venv keeps them out of
# the environment under test. Re-running with the same version only checks a stamp.
#
# Usage: tools/install-keystone.sh [VENV_DIR]      (prints VENV_DIR when done)
# Environment: KEYSTONE_VERSION (default 30.0.0), PYTHON (default python3).
set -euo pipefail

KEYSTONE_VERSION="${KEYSTONE_VERSION:-30.0.0}"
PYTHON="${PYTHON:-python3}"
VENV_DIR="${1:-${NETWEAVE_KEYSTONE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/netweave/keystone-$KEYSTONE_VERSION}}"
STAMP="$VENV_DIR/.netweave-keystone-version"

if [[ -x "$VENV_DIR/bin/keystone-manage" && -f "$STAMP" && "$(cat "$STAMP")" == "$KEYSTONE_VERSION" ]]; then
    echo "$VENV_DIR"
    exit 0
fi

# A half-built venv from an interrupted run is rebuilt from scratch.
rm -rf "$VENV_DIR"
mkdir -p "$(dirname "$VENV_DIR")"
"$PYTHON" -m venv "$VENV_DIR"
"$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "keystone==$KEYSTONE_VERSION" >&2
echo "$KEYSTONE_VERSION" > "$STAMP"
echo "$VENV_DIR"
