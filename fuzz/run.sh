#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fuzz/run.sh - build the libFuzzer targets with clang and run each one for a while.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60; `make test` passes a few so that all targets take about a
# minute). TARGETs default to all of them. Each target fuzzes a scratch copy of its seed
# corpus (fuzz/corpus/<target>, never modified here) with fuzz/dict/mqtt.dict. A crash, leak,
# timeout or oracle failure is a failure: its reproducer is copied to the build dir's
# artifacts/ and its path printed, with the tail of the log. The last line is
# "fuzz: N passed, N failed" (N = targets); the exit status is 1 if any target failed.
#
# Environment: TERN_FUZZ_BUILD (build dir, default build/fuzz), CC (default clang),
# TERN_FUZZ_JOBS (build parallelism, default 2), TERN_FUZZ_KEEP=1 keeps the scratch dir.
# Reproduce a failure with: BUILD/fuzz/fuzz_<target> ARTIFACT
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
all_targets=(packet framer props topic utf8 varint)

secs=${1:-60}
case "$secs" in
'' | *[!0-9]*)
    echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

build=${TERN_FUZZ_BUILD:-$root/build/fuzz}
cc=${CC:-clang}
jobs=${TERN_FUZZ_JOBS:-2}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (scripts/deps.sh test installs clang and libclang-rt-14-dev)" >&2
    echo "fuzz: 0 passed, ${#targets[@]} failed"
    exit 1
fi

build_fail() {
    echo "fuzz: $1 failed; see $2" >&2
    tail -n 30 "$2" >&2 || true
    echo "fuzz: 0 passed, ${#targets[@]} failed"
    exit 1
}
echo "fuzz: building targets in $build"
mkdir -p "$build"
CC=$cc cmake -S "$root" -B "$build" -DTERN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$build/fuzz-cmake.log" 2>&1 || build_fail "cmake" "$build/fuzz-cmake.log"
cmake --build "$build" -j"$jobs" --target fuzz_all >"$build/fuzz-build.log" 2>&1 ||
    build_fail "build" "$build/fuzz-build.log"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tern-fuzz.XXXXXX")
artifacts=$build/artifacts
mkdir -p "$artifacts"
cleanup() {
    if [ "${TERN_FUZZ_KEEP:-0}" = 1 ]; then
        echo "fuzz: scratch kept in $scratch"
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

passed=0
failed=0
for t in "${targets[@]}"; do
    exe=$build/fuzz/fuzz_$t
    if [ ! -x "$exe" ]; then
        echo "fuzz: $t: no such target ($exe)"
        failed=$((failed + 1))
        continue
    fi
    corpus=$scratch/corpus/$t
    mkdir -p "$corpus" "$scratch/art/$t"
    cp -R "$here/corpus/$t/." "$corpus/"
    log=$scratch/$t.log
    echo "fuzz: $t: ${secs}s"
    rc=0
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: an input eating 2 GB is a
    # leak or an unbounded allocation. Both count as failures.
    "$exe" -max_total_time="$secs" -dict="$here/dict/mqtt.dict" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$scratch/art/$t/" \
        "$corpus" >"$log" 2>&1 || rc=$?
    found=$(find "$scratch/art/$t" -type f | head -n 1)
    if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
        stats=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
        cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
        echo "fuzz: $t: ok (${stats:-?} runs, ${cov:-cov: ?})"
        passed=$((passed + 1))
        continue
    fi
    failed=$((failed + 1))
    echo "fuzz: $t: FAILED (exit $rc)"
    if [ -n "$found" ]; then
        keep=$artifacts/$t-$(basename "$found")
        cp "$found" "$keep"
        cp "$log" "$keep.log"
        echo "fuzz: $t: reproducer: $keep"
        echo "fuzz: $t: rerun with: $exe $keep"
    fi
    grep -E 'ERROR|runtime error|oracle failed|SUMMARY|^    #[0-9]' "$log" | head -n 25 | sed "s/^/fuzz: $t: /"
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
