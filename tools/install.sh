#!/usr/bin/env bash
# Prepare this machine for netweave: Debian packages, then the .venv
# virtualenv holding the project (editable) and its test requirements, and
# the virtualenv of Keystone (.venvs/keystone) the functional tests start.
# Safe to re-run: with nothing changed it only checks and exits in seconds.
#
# Usage: tools/install.sh [extra-debian-package ...]
# Environment:
#   NETWEAVE_APT_PACKAGES  more Debian packages, space separated
#   NETWEAVE_SKIP_APT=1    leave system packages alone
#   NETWEAVE_INSTALL=run   only what the server and agents need (.venv), not
#                          the test suite's Keystone
#   PYTHON                 interpreter for a new .venv (default: python3 on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PYTHON=${PYTHON:-python3}

log() { printf 'install.sh: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------

wanted_packages() {
    # Strip comments and blanks from the list, then add the extras.
    sed -e 's/#.*//' tools/apt-packages.txt | tr -s ' \t' '\n'
    printf '%s\n' ${NETWEAVE_APT_PACKAGES:-} "$@"
}

missing_packages() {
    local pkg
    for pkg in $(wanted_packages "$@" | grep -v '^$' | sort -u); do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then
            echo "$pkg"
        fi
    done
}

install_debian_packages() {
    local sudo=() made_policy=
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "not root and no password-less sudo: skipping apt-get;" \
                "tests needing these packages will skip: $*"
            return 0
        fi
    fi
    # Keep freshly installed daemons from starting: the tests run private
    # instances, and a system-wide dnsmasq or postgres would only get in the way.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    log "installing Debian packages: $*"
    local rc=0
    {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "$@"
    } </dev/null || rc=$?
    if [ -n "$made_policy" ]; then
        "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
    fi
    return "$rc"
}

if [ "${NETWEAVE_SKIP_APT:-}" = 1 ]; then
    log "NETWEAVE_SKIP_APT=1: not checking Debian packages"
elif ! command -v dpkg-query >/dev/null; then
    log "no dpkg-query (not Debian?): install the packages in tools/apt-packages.txt yourself"
else
    missing=$(missing_packages "$@")
    if [ -n "$missing" ]; then
        # shellcheck disable=SC2086  # one word per package
        install_debian_packages $missing
    fi
fi

# --- Python virtualenvs -----------------------------------------------------
#
# Each virtualenv installs one set of tools/constraints/: exact releases whose
# files lie in wheelhouse/ with their sha256 recorded. pip never asks an index
# here, so an install is the same with or without one, and cannot stop halfway
# for a missing download. tools/wheelhouse.py refreshes the sets (needs the index).

# The machine's pip settings (extra mirrors, file caches, constraints) play no
# part: the sets and wheelhouse/ say everything.
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

# install_set VENV SET [STAMP-INPUT ...]: VENV holds exactly SET, re-installed
# only when the set (or another stamp input) changed.
install_set() {
    local venv=$1 set=$2
    shift 2
    local constraints=tools/constraints/$set.txt stamp=$venv/.netweave-install-stamp want
    if [ ! -f "$constraints" ]; then
        log "$constraints is missing: run python3 tools/wheelhouse.py $set (needs the package index)"
        return 1
    fi
    # A venv whose interpreter vanished (pyenv switch, moved tree) is rebuilt.
    if [ -e "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
        log "$venv is broken; recreating it"
        rm -rf "$venv"
    fi
    want=$(cat "$constraints" "$@" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    if [ ! -e "$venv" ]; then
        log "creating $venv with $(command -v "$PYTHON")"
        mkdir -p "$(dirname "$venv")"
        "$PYTHON" -m venv "$venv"
    fi
    log "installing $set into $venv from wheelhouse/"
    "$venv/bin/python" -m pip install --quiet --no-index --find-links wheelhouse \
        --require-hashes -r "$constraints" </dev/null
    echo "$want" >"$stamp"
}

# netweave itself goes in editable, its dependencies already there from the set.
install_set "$VENV" netweave setup.cfg setup.py
if [ "$(cat "$VENV/.netweave-editable-stamp" 2>/dev/null)" != "$(cat setup.cfg setup.py | sha256sum)" ]; then
    log "installing netweave (editable) into $VENV"
    "$VENV/bin/python" -m pip install --quiet --no-index --no-deps --no-build-isolation \
        -e . </dev/null
    cat setup.cfg setup.py | sha256sum >"$VENV/.netweave-editable-stamp"
fi
# Keystone and tempest run beside netweave, never inside its environment; only the
# tests need it. A set whose .in was never resolved (its files were never
# fetched) is reported and left out; the tests that need it say so.
if [ "${NETWEAVE_INSTALL:-test}" = test ]; then
    for set in keystone tempest; do
        if [ -f "tools/constraints/$set.txt" ]; then
            install_set ".venvs/$set" "$set"
        else
            log "tools/constraints/$set.txt not resolved yet: .venvs/$set not installed" \
                "(python3 tools/wheelhouse.py $set needs the package index)"
        fi
    done
fi
log "done"
