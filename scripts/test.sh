#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/test.sh - everything `make test` (and CI, through .ci/run) checks, in one run:
#
#   1. scripts/deps.sh test       the Debian packages the tests need (missing ones only)
#   2. build/asan                 gcc, Debug, ASan + UBSan; then ctest there: every suite
#                                 (unit, fuzz corpus replay, CLI, interop), sanitizers on
#   3. build/release              gcc -O2 (what `make run` builds: -O2 warnings differ)
#   4. build/clang                clang 14, everything, -Werror (warnings fail both compilers)
#   5. fuzz/run.sh 8              every libFuzzer target for ~8 s each
#
# Every step runs even when an earlier one failed (a broken build skips only its own ctest).
# The last line is the sum over all of them, alone on its line:  N passed, N failed
# A ctest test that prints such a line itself (our unit binaries, fuzz/run.sh; pytest's
# summary too) counts as that many; any other test or build step counts as one. The exit
# status is 0 only when nothing failed.
#
# Environment: JOBS (parallel build/test jobs, default: nproc), FUZZ_SECONDS (per fuzz target,
# default 8; 0 skips fuzzing), TERN_SKIP_DEPS=1 (do not check Debian packages).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-8}
PY=/usr/bin/python3 # Debian's python: the one with python3-paho-mqtt and python3-pytest
LOGS=build/test-logs
mkdir -p "$LOGS"
RESULTS=$LOGS/results.tsv # name <TAB> passed <TAB> failed <TAB> skipped
: >"$RESULTS"
rm -f "$LOGS/summary.txt"

# ---- bookkeeping -------------------------------------------------------------------------

record() { # record NAME PASSED FAILED [SKIPPED]
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-0}" >>"$RESULTS"
}

banner() {
    printf '\n==> %s\n' "$*"
}

# run_logged NAME LOGFILE CMD...: run CMD with its output going to LOGFILE only; on failure
# show the last 80 lines. Returns CMD's status (never trips set -e in the caller).
run_logged() {
    local name=$1 log=$2 st=0
    shift 2
    "$@" >"$log" 2>&1 || st=$?
    if [ "$st" -ne 0 ]; then
        echo "FAILED: $name (exit $st); last lines of $log:"
        tail -n 80 "$log" | sed 's/^/    /'
    else
        echo "ok: $name"
    fi
    return "$st"
}

# build_step NAME DIR CMAKE_ARGS...: configure and build DIR; records one result.
build_step() {
    local name=$1 dir=$2 st=0
    shift 2
    banner "$name ($dir)"
    run_logged "configure $dir" "$LOGS/$(basename "$dir")-configure.log" \
        cmake -S . -B "$dir" "$@" || st=$?
    if [ "$st" -eq 0 ]; then
        run_logged "build $dir" "$LOGS/$(basename "$dir")-build.log" \
            cmake --build "$dir" -j "$JOBS" || st=$?
    fi
    if [ "$st" -eq 0 ]; then
        record "build: $name" 1 0
    else
        record "build: $name" 0 1
    fi
    return "$st"
}

# Turn ctest's JUnit file into result rows, one per test, counting the cases a test reports
# in its own "N passed, N failed" (or pytest) summary line.
ctest_rows() { # ctest_rows JUNIT LABELS_JSON
    "$PY" - "$1" "$2" <<'EOF'
import html, json, re, sys

junit, labels_json = sys.argv[1], sys.argv[2]
labels = {}
try:
    for t in json.load(open(labels_json)).get("tests", []):
        for p in t.get("properties", []):
            if p.get("name") == "LABELS":
                labels[t["name"]] = ",".join(p.get("value") or [])
except Exception:
    pass
text = open(junit, encoding="utf-8", errors="replace").read()
case_re = re.compile(r'<testcase name="([^"]*)"[^>]*status="([^"]*)"[^>]*>(.*?)</testcase>', re.S)
count_re = re.compile(r"\b(\d+) (passed|failed|errors?)\b")
for m in case_re.finditer(text):
    name, status = html.unescape(m.group(1)), m.group(2)
    out = html.unescape(m.group(3))
    passed = failed = skipped = 0
    summary = None
    for line in out.splitlines():
        if re.search(r"\b\d+ (passed|failed)\b", line):
            summary = line
    if status == "notrun":
        skipped = 1
    elif summary is not None:
        for n, word in count_re.findall(summary):
            if word == "passed":
                passed += int(n)
            else:
                failed += int(n)
        if status != "run" and failed == 0:
            failed = 1  # crashed or sanitizer abort after printing a clean summary
    elif status == "run":
        passed = 1
    else:
        failed = 1
    label = labels.get(name, "")
    print(f"ctest {label + ': ' if label else ''}{name}\t{passed}\t{failed}\t{skipped}")
EOF
}

# ctest_step DIR: run every registered test in DIR, record per-test counts.
ctest_step() {
    local dir=$1 st=0 junit labels
    junit=$ROOT/$LOGS/$(basename "$dir")-ctest.xml
    labels=$ROOT/$LOGS/$(basename "$dir")-tests.json
    banner "ctest ($dir)"
    rm -f "$junit"
    ctest --test-dir "$dir" --show-only=json-v1 >"$labels" 2>/dev/null || true
    # The build stops at the first sanitizer report (-fno-sanitize-recover); add stack traces.
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$JOBS" \
        --output-junit "$junit" --test-output-size-passed 1048576 \
        --test-output-size-failed 1048576 --test-output-truncation tail || st=$?
    if [ -s "$junit" ] && ctest_rows "$junit" "$labels" >>"$RESULTS.ctest"; then
        if [ "$st" -ne 0 ] && ! awk -F'\t' '$3 > 0 { f = 1 } END { exit !f }' "$RESULTS.ctest"
        then
            record "ctest: $dir (exit $st)" 0 1 # ctest failed but no test did: say so
        fi
        cat "$RESULTS.ctest" >>"$RESULTS"
        rm -f "$RESULTS.ctest"
    else
        rm -f "$RESULTS.ctest"
        record "ctest: $dir (no results, exit $st)" 0 1
    fi
    return "$st"
}

fuzz_step() {
    local st=0 line p f log=$LOGS/fuzz.log
    banner "fuzz/run.sh $FUZZ_SECONDS (libFuzzer, clang)"
    if [ "$FUZZ_SECONDS" = 0 ]; then
        echo "skipped: FUZZ_SECONDS=0"
        record "fuzz (skipped: FUZZ_SECONDS=0)" 0 0 1
        return 0
    fi
    if [ ! -f fuzz/run.sh ]; then
        echo "FAILED: fuzz/run.sh does not exist"
        record "fuzz: fuzz/run.sh missing" 0 1
        return 1
    fi
    CC=clang TERN_FUZZ_JOBS=$JOBS bash fuzz/run.sh "$FUZZ_SECONDS" 2>&1 | tee "$log" || st=$?
    line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
    if [ -n "$line" ]; then
        p=$(sed -E 's/^fuzz: ([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/^fuzz: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
        if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then
            f=1
        fi
        record "fuzz: fuzz/run.sh $FUZZ_SECONDS" "$p" "$f"
    else
        record "fuzz: fuzz/run.sh $FUZZ_SECONDS (no summary line, exit $st)" 0 1
        [ "$st" -ne 0 ] || st=1
    fi
    return "$st"
}

# ---- the run ----------------------------------------------------------------------------

START=$(date +%s)

banner "dependencies (scripts/deps.sh test)"
if ! bash scripts/deps.sh test; then
    echo "cannot continue without the packages above"
    echo
    echo "0 passed, 1 failed" | tee "$LOGS/summary.txt"
    exit 1
fi

if build_step "gcc debug asan+ubsan" build/asan -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_BUILD_TYPE=Debug -DTERN_SANITIZE=ON; then
    ctest_step build/asan || true
else
    record "ctest: build/asan (skipped: build failed)" 0 1
fi

build_step "gcc release -O2" build/release -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_BUILD_TYPE=Release || true

build_step "clang -Werror" build/clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug || true

fuzz_step || true

# ---- summary ------------------------------------------------------------------------------

banner "summary ($(($(date +%s) - START)) s; logs in $LOGS/)"
awk -F'\t' '{
    s = $2 " passed, " $3 " failed"
    if ($4 > 0) s = s ", " $4 " skipped"
    printf "  %-4s %-58s %s\n", ($3 > 0 ? "FAIL" : ($2 > 0 ? "ok" : "-")), $1, s
}' "$RESULTS"
read -r PASSED FAILED SKIPPED < <(awk -F'\t' '{ p += $2; f += $3; s += $4 }
    END { print p + 0, f + 0, s + 0 }' "$RESULTS")
if [ "$SKIPPED" -gt 0 ]; then
    echo "($SKIPPED skipped)"
fi
echo "$PASSED passed, $FAILED failed" | tee "$LOGS/summary.txt"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
