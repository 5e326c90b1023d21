#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/deps.sh - install the Debian packages tern needs, and only the missing ones.
#
#   scripts/deps.sh build    what `make run` / `make release` need (compiler, cmake, ...)
#   scripts/deps.sh test     build + what `make test` needs (clang, libFuzzer, mosquitto, ...)
#   scripts/deps.sh bench    build + what bench/run needs (the peer brokers, gnuplot, perf)
#   scripts/deps.sh list [build|test|bench]   print the package names, one a line, install nothing
#
# Each package is checked with dpkg-query; apt-get update (once) and apt-get install run only
# when something is missing, so a second run is fast and needs no network. Uses sudo when not
# root. Set TERN_SKIP_DEPS=1 to skip the check (e.g. on a non-Debian system where you have
# installed the equivalents yourself).
#
# Target: Debian 12 (bookworm). To add a dependency, add one line to a list below with a
# comment saying who needs it.
set -euo pipefail

# ---- what the build needs (make run, make release, make debug) ----------------------------
BUILD_PKGS=(
    build-essential # gcc 12, make, libc headers: compile everything
    cmake           # the build system (CMakeLists.txt needs 3.18+; bookworm has 3.25)
    pkg-config      # locating libraries
    libssl-dev      # OpenSSL: libtern's TLS (src/client)
)

# ---- what the tests need in addition (make test, make fuzz) -------------------------------
TEST_PKGS=(
    clang              # second compiler: the tree must build with -Werror under clang 14 too
    libclang-rt-14-dev # clang's libFuzzer and ASan/UBSan runtimes (fuzz/run.sh, clang+ASan)
    mosquitto          # reference broker the interop tests run tern against
    mosquitto-clients  # mosquitto_pub / mosquitto_sub: reference clients for interop tests
    python3            # Debian's /usr/bin/python3 runs the broker/interop tests
    python3-paho-mqtt  # paho MQTT client (1.6.x) used by the interop tests
    python3-pytest     # runner of the Python test suites
    openssl            # the openssl command: TLS tests make their certificates with it
    libmosquitto-dev   # bench/client_bench compares libtern with libmosquitto
    nodejs             # MQTT.js interop tests (tests/broker_interop/mqttjs); aedes (bench/)
    nats-server        # bench/run --quick (the smoke run in make test) measures it as a peer
)

# ---- what bench/run needs in addition to the build (the peer brokers, the chart, perf) ----
BENCH_PKGS=(
    mosquitto   # the broker every ratio is taken against
    nats-server # a peer: its MQTT gateway
    nodejs      # runs aedes, a peer (bench/aedes)
    gnuplot-nox # draws the chart (bench/results/*.svg, docs/performance.svg)
    linux-perf  # bench/run --perf: where ternd spends its time
)

# npm comes with some nodejs builds (NodeSource's) and conflicts with Debian's npm package
# there; Debian's own nodejs needs Debian's npm. Install it only when no npm is on PATH.
NPM_PKG=npm
# JavaScript test dependencies (package-lock.json pinned), installed by `npm ci` when missing.
NPM_DIRS=(
    tests/broker_interop/mqttjs # mqtt (MQTT.js) 5.x for the broker's 5.0 interop tests
    bench/aedes                 # aedes, a peer broker in bench/run (also its --quick smoke run)
)

die() {
    echo "deps.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//'
}

is_installed() {
    local st
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [ "$st" = "install ok installed" ]
}

main() {
    local what=${1:-}
    local pkgs=()
    case "$what" in
    build) pkgs=("${BUILD_PKGS[@]}") ;;
    test) pkgs=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
    bench) pkgs=("${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    list)
        case "${2:-test}" in
        build) printf '%s\n' "${BUILD_PKGS[@]}" ;;
        test) printf '%s\n' "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" ;;
        bench) printf '%s\n' "${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}" ;;
        *) die "list: expected build, test or bench, got '${2}'" ;;
        esac
        return 0
        ;;
    -h | --help | help)
        usage
        return 0
        ;;
    *)
        usage >&2
        return 2
        ;;
    esac

    if [ "${TERN_SKIP_DEPS:-0}" = 1 ]; then
        echo "deps.sh: TERN_SKIP_DEPS=1, not checking packages"
        return 0
    fi
    command -v dpkg-query >/dev/null 2>&1 ||
        die "dpkg-query not found: this script knows Debian only. Install the equivalents of: ${pkgs[*]} (then use TERN_SKIP_DEPS=1)"

    local missing=() p
    for p in "${pkgs[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ "$what" != build ] && ! command -v npm >/dev/null 2>&1; then
        missing+=("$NPM_PKG")
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        echo "deps.sh: all ${#pkgs[@]} $what packages are installed"
        [ "$what" != build ] && npm_deps
        return 0
    fi

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            die "missing packages: ${missing[*]}; not root and no sudo: install them as root"
        sudo=(sudo)
    fi
    # CI runs as root with no terminal and DEBIAN_FRONTEND unset: never ask questions.
    export DEBIAN_FRONTEND=noninteractive
    echo "deps.sh: installing missing $what packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed for: ${missing[*]}"
    for p in "${missing[@]}"; do
        is_installed "$p" || die "$p still not installed after apt-get install"
    done
    echo "deps.sh: installed ${missing[*]}"
    [ "$what" != build ] && npm_deps
    return 0
}

# npm ci in each NPM_DIRS entry that has no node_modules yet (the npm registry is reachable
# from CI; the lock file pins every version).
npm_deps() {
    local root d
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    for d in "${NPM_DIRS[@]}"; do
        [ -d "$root/$d/node_modules" ] && continue
        echo "deps.sh: npm ci in $d"
        (cd "$root/$d" && npm ci --no-audit --no-fund --loglevel=error) ||
            die "npm ci failed in $d"
    done
}

main "$@"
