#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/spec_ids.sh - list the normative statement ids ([MQTT-x.y.z-n]) that tests cite, with
# how many places cite each, so that gaps in spec coverage are visible. Ids are numbered
# separately in 3.1.1 and 5.0; the tests say which next to each citation.
#
#   tests/spec_ids.sh          one line per id: count, id
#   tests/spec_ids.sh --count  only the number of distinct ids
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ids=$(grep -rhoE 'MQTT-[0-9]+(\.[0-9]+)*-[0-9]+' --include='*_test.c' --include='*.py' \
    --include='packet_test_util.h' src tests fuzz 2>/dev/null | sort -V | uniq -c)
if [ "${1:-}" = "--count" ]; then
    printf '%s\n' "$ids" | grep -c . || true
else
    printf '%s\n' "$ids"
fi
