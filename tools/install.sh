#!/usr/bin/env bash
# Prepare this machine for netweave: Debian packages, then the .venv
# virtualenv holding the project (editable) and its test requirements.
# Safe to re-run: with nothing changed it only checks and exits in seconds.
#
# Usage: tools/install.sh [extra-debian-package ...]
# Environment:
#   NETWEAVE_APT_PACKAGES  more Debian packages, space separated
#   NETWEAVE_SKIP_APT=1    leave system packages alone
#   NETWEAVE_OFFLINE_INDEX package index used when pypi.org is unreachable
#                          (default: the local mirror file:///opt/pypi/simple)
#   PYTHON                 interpreter for a new .venv (default: python3 on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PYTHON=${PYTHON:-python3}
STAMP=$VENV/.netweave-install-stamp

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

# --- Python virtualenv ------------------------------------------------------

# A venv whose interpreter vanished (pyenv switch, moved tree) is rebuilt.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
    log "$VENV is broken; recreating it"
    rm -rf "$VENV"
fi
if [ ! -e "$VENV" ]; then
    log "creating $VENV with $(command -v "$PYTHON")"
    "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when what pip would read has changed.
want=$(cat setup.cfg setup.py test-requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    exit 0
fi
# wheelhouse/ holds the dependencies that a machine's local package mirror
# may lack, so an install still succeeds while PyPI cannot be reached.
pip_args=(--find-links wheelhouse)
if ! "$VENV/bin/python" - <<'PY' 2>/dev/null
import socket
socket.setdefaulttimeout(5)
socket.create_connection(("pypi.org", 443)).close()
PY
then
    # Each unreachable index costs pip five retries per package; ask only the
    # local mirror (if the machine has one) and the wheelhouse instead.
    log "pypi.org unreachable: installing from wheelhouse/ and ${NETWEAVE_OFFLINE_INDEX:=file:///opt/pypi/simple}"
    pip_args+=(--index-url "$NETWEAVE_OFFLINE_INDEX")
fi
log "installing netweave and test requirements into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_args[@]}" \
    -e '.[postgresql]' -r test-requirements.txt </dev/null
echo "$want" >"$STAMP"
log "done"
