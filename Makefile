# SPDX-License-Identifier: MIT
#
# Makefile - the front door. CMake does the building; this file only names the common tasks
# so that a newcomer needs two commands:
#
#   make run    install missing Debian packages, build release into build/release, start ternd
#   make test   install what the tests need, then every check CI runs (scripts/test.sh)
#
# Other targets: make help.

SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := help

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TERND_ARGS ?=
FUZZ_SECONDS ?= 60
BENCH_ARGS ?=

CMAKE_RELEASE := -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release
CMAKE_DEBUG := -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug
TERND := $(BUILD)/release/src/ternd/ternd
CODEC_BENCH := $(BUILD)/release/bench/codec_bench

.PHONY: help run test release debug fuzz fuzz-broker bench clean deps deps-test format

help:
	@echo "tern - MQTT 3.1 / 3.1.1 / 5.0 broker, client library and CLI"
	@echo
	@echo "  make run      build release (build/release) and start ternd on localhost:1883"
	@echo "  make test     all checks CI runs: gcc ASan+UBSan tests, gcc release and"
	@echo "                clang -Werror builds, fuzz replay, ~1 min of fuzzing"
	@echo "  make release  build gcc -O2 into build/release"
	@echo "  make debug    build gcc -O0 -g into build/debug"
	@echo "  make fuzz     run every fuzz target for $(FUZZ_SECONDS) s (FUZZ_SECONDS=N)"
	@echo "  make fuzz-broker  build gcc ASan+UBSan (build/fuzz-broker) and attack ternd over"
	@echo "                TCP for $(FUZZ_SECONDS) s with a random seed (fuzz/broker_fuzz.c;"
	@echo "                FUZZ_SEED=N repeats a run)"
	@echo "  make bench    run the codec benchmark (build/release/bench/codec_bench;"
	@echo "                BENCH_ARGS=\"--case decode311\" passes options)"
	@echo "  make format   clang-format the C sources in place"
	@echo "  make clean    remove build/"
	@echo
	@echo "Missing Debian packages are installed by scripts/deps.sh (sudo when not root)."

deps:
	@bash scripts/deps.sh build

deps-test:
	@bash scripts/deps.sh test

# Configure every time (it is quick): new *_test.c files are found by a glob at configure time.
release: deps
	@cmake -S . -B $(BUILD)/release $(CMAKE_RELEASE) >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)

debug: deps
	@cmake -S . -B $(BUILD)/debug $(CMAKE_DEBUG) >/dev/null
	@cmake --build $(BUILD)/debug -j $(JOBS)

# ternd runs in the foreground; Ctrl-C stops it. With no arguments it listens on
# 127.0.0.1:1883 and [::1]:1883 with anonymous access (local-only mode, like mosquitto 2).
# TERND_ARGS="-c ternd.conf -v" passes options.
run: release
	@echo
	@echo "==> $(TERND) $(TERND_ARGS)   (foreground; Ctrl-C to stop)"
	@$(TERND) $(TERND_ARGS)

test:
	@JOBS=$(JOBS) bash scripts/test.sh

fuzz: deps-test
	@CC=clang TERN_FUZZ_JOBS=$(JOBS) bash fuzz/run.sh $(FUZZ_SECONDS)

# The network fuzzer against the ASan+UBSan ternd: hostile sessions over TCP, a liveness
# canary, a clean SIGTERM exit (LeakSanitizer) and a clean log required. On a failure it prints
# the seed and keeps the broker log and the bytes sent in the --out dir it names.
FUZZ_SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fuzz-broker: deps
	@cmake -S . -B $(BUILD)/fuzz-broker $(CMAKE_DEBUG) -DTERN_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/fuzz-broker -j $(JOBS) --target ternd broker_fuzz
	@$(BUILD)/fuzz-broker/fuzz/broker_fuzz $(BUILD)/fuzz-broker/src/ternd/ternd \
	  --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED)

bench: release
	@if [ -x $(CODEC_BENCH) ]; then \
	  $(CODEC_BENCH) $(BENCH_ARGS); \
	else \
	  echo "make bench: $(CODEC_BENCH) was not built (no benchmark in bench/ yet)"; \
	  exit 1; \
	fi

format:
	@git ls-files -co --exclude-standard -- '*.c' '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(BUILD)
