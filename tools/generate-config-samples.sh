#!/usr/bin/env bash
# Regenerate the sample configuration in etc/ from the options and policy
# rules declared in the code:
#   etc/netweave.conf.sample   etc/ml2_conf.ini.sample   etc/policy.yaml.sample
#   etc/{linuxbridge,openvswitch,dhcp,metadata,lbaas,l3}_agent.ini.sample
#   etc/linuxbridge_agent.ini.sample   etc/openvswitch_agent.ini.sample
# The generator inputs live in etc/oslo-config-generator/ and
# etc/oslo-policy-generator/. Commit the results: tests/unit/test_config_samples.py
# fails while they differ from what this script produces.
#
# Usage: tools/generate-config-samples.sh [OUTPUT_DIR]   (default: etc)
# Environment:
#   BIN_DIR  where oslo-config-generator and oslopolicy-sample-generator are
#            (default: .venv/bin, the virtualenv tools/install.sh makes)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_DIR=${BIN_DIR:-.venv/bin}
OUT=${1:-etc}

for tool in oslo-config-generator oslopolicy-sample-generator; do
    if [ ! -x "$BIN_DIR/$tool" ]; then
        echo "generate-config-samples.sh: $BIN_DIR/$tool not found (run tools/install.sh or set BIN_DIR)" >&2
        exit 1
    fi
done
mkdir -p "$OUT"

# --output-file on the command line wins over output_file in the inputs.
"$BIN_DIR/oslo-config-generator" --config-file etc/oslo-config-generator/netweave.conf \
    --output-file "$OUT/netweave.conf.sample"
"$BIN_DIR/oslo-config-generator" --config-file etc/oslo-config-generator/ml2_conf.ini \
    --output-file "$OUT/ml2_conf.ini.sample"
for agent in linuxbridge openvswitch dhcp metadata lbaas l3 metering; do
    "$BIN_DIR/oslo-config-generator" --config-file "etc/oslo-config-generator/${agent}_agent.ini" \
        --output-file "$OUT/${agent}_agent.ini.sample"
done
"$BIN_DIR/oslopolicy-sample-generator" --config-file etc/oslo-policy-generator/netweave.conf \
    --output-file "$OUT/policy.yaml.sample"
echo "generate-config-samples.sh: wrote netweave.conf.sample, ml2_conf.ini.sample," \
    "the agents' linuxbridge, openvswitch, dhcp, metadata, lbaas, l3 and metering _agent.ini.sample files and" \
    "policy.yaml.sample in $OUT" >&2
