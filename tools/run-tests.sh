#!/usr/bin/env bash
# Run netweave's test suite in .venv, creating or refreshing it first.
# Extra arguments go to pytest:  tools/run-tests.sh tests/unit -x -k ports
# With no path given, pytest.ini's testpaths (tests/) is used.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install.sh

# On CI a test whose prerequisite (root, a daemon, PostgreSQL) is missing must
# fail rather than skip, or a half-provisioned machine would pass by skipping.
case "${CI:-}" in
    true | 1 | yes) export NETWEAVE_REQUIRE_SYSTEM=1 ;;
esac

# The lint gate: the committed ruff.toml, clean on the whole tree.
.venv/bin/ruff check .

rc=0
.venv/bin/python -m pytest -p no:cacheprovider "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    # pytest's "no tests collected": a run that tests nothing must not pass.
    echo "run-tests.sh: no tests were collected; failing" >&2
fi
exit "$rc"
