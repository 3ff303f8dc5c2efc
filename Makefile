# redbridge — the two commands: `make demo` and `make test`.
#   make demo                 a runnable tour (Rust core, C) against REDIS_URL or a throwaway redis-server
#   make test                 every test suite (installs what is missing when run as root)
#   make bench                benchmarks (QUICK=1 for a tiny run)
#   make redis-py-suite       redis-py's own tests, with redis-py and with redbridge (in `make test`, floor 90%)
#   make dist                 what users install, into dist/: manylinux wheel + sdist, npm packages, C tarball
#   make test-dist            each of them installed as a user would, without cargo (in `make test`)
#   make install PREFIX=/usr/local   libredbridge (.so, .a), redbridge.h, redbridge.pc
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)
WITH_REDIS := tests/harness/with-redis.sh
PREFIX ?= /usr/local
PROFILE ?= release
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CDIR := target/c
CFLAGS_TEST := -std=gnu11 -Wall -Wextra -Werror -g -Ibindings-c/include
VALGRIND := valgrind --error-exitcode=1 --num-callers=40 --suppressions=bindings-c/tests/c/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect -q

PYVENV := target/py-venv
PY := $(PYVENV)/bin/python
# opentelemetry-*: test_observability.py's in-memory reader (the package needs neither).
# pytest-timeout: a test that hangs fails with its threads' stacks instead of stalling CI.
PY_TEST_DEPS := maturin pytest pytest-timeout "redis[hiredis]" mypy opentelemetry-api opentelemetry-sdk

NODE_DIR := bindings-node

.PHONY: demo test bench deps lint spec-check test-core test-c test-python test-python-install redis-py-suite py-env node-env test-node test-node-pack bench-quick build-c install dist test-dist

deps:
	@tests/harness/ensure-deps.sh

demo: deps build-c py-env node-env
	@cargo build -q -p redbridge --example tour
	@gcc $(CFLAGS_TEST) bindings-c/examples/tour.c -Ltarget/debug -lredbridge -o $(CDIR)/tour
	@$(WITH_REDIS) bash -c 'target/debug/examples/tour && echo && LD_LIBRARY_PATH=target/debug $(CDIR)/tour \
	  && echo && $(PY) bindings-python/examples/tour.py && echo && node $(NODE_DIR)/examples/tour.js'

test: deps lint spec-check test-core test-c test-python redis-py-suite test-dist test-node bench-quick
	@echo "make test: all suites passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The command spec (spec/): what the servers say of their commands (a throwaway Redis and
# Valkey 8 asked again) and what is generated from it, both as committed.
spec-check:
	python3 spec/fetch.py --check
	python3 spec/generate.py --check

# cargo prints a "test result:" line per test binary; the last line sums them.
test-core:
	@mkdir -p target
	cargo test --workspace 2>&1 | tee target/test-core.log
	@awk '/^test result:/ {p+=$$4; f+=$$6; i+=$$8} END {printf "core: %d passed, %d failed, %d skipped\n", p, f, i}' target/test-core.log

build-c:
	@mkdir -p $(CDIR)
	cargo build -q -p redbridge-c

# C tests under valgrind (zero errors, zero leaks), the C++ example, and an install
# used through pkg-config. The header drift check runs in `cargo test` (bindings-c/tests/header.rs).
# The C tests (main.c runs the test_*.c files) read REDBRIDGE_TEST_URL: a throwaway server
# from with-redis.sh, never the caller's REDIS_URL (unset here, so the C++ example and the
# tour run against the throwaway server too).
C_TEST_SRC := $(wildcard bindings-c/tests/c/*.c)
test-c: build-c
	python3 tests/conformance/to_lines.py > $(CDIR)/vectors.lines
	gcc $(CFLAGS_TEST) $(C_TEST_SRC) -Ltarget/debug -lredbridge -lpthread -o $(CDIR)/test_redbridge
	g++ -std=c++17 -Wall -Wextra -Werror -Ibindings-c/include bindings-c/tests/c/example.cpp -Ltarget/debug -lredbridge -o $(CDIR)/example_cpp
	rm -rf $(CDIR)/prefix
	$(MAKE) -s install PREFIX=$(abspath $(CDIR)/prefix) PROFILE=debug
	PKG_CONFIG_PATH=$(CDIR)/prefix/lib/pkgconfig gcc -std=gnu11 -Wall -Werror bindings-c/examples/tour.c \
	  $$(PKG_CONFIG_PATH=$(CDIR)/prefix/lib/pkgconfig pkg-config --cflags --libs redbridge) -o $(CDIR)/tour_pkgconfig
	env -u REDIS_URL WITH_TLS=1 WITH_CLUSTER=1 $(WITH_REDIS) bash -c 'LD_LIBRARY_PATH=target/debug $(VALGRIND) $(CDIR)/test_redbridge $(CDIR)/vectors.lines \
	  && LD_LIBRARY_PATH=target/debug $(CDIR)/example_cpp \
	  && LD_LIBRARY_PATH=$(CDIR)/prefix/lib $(CDIR)/tour_pkgconfig > $(CDIR)/tour.out && echo "pkg-config build of the C tour: ran"'

# A virtualenv with maturin and the test tools; the package installed from this tree
# (debug build, editable) so Python edits need no rebuild.
py-env:
	@test -x $(PY) || python3 -m venv $(PYVENV)
	@$(PY) -m pip install -q --disable-pip-version-check $(PY_TEST_DEPS)
	@VIRTUAL_ENV=$(abspath $(PYVENV)) $(PYVENV)/bin/maturin develop -q 2>&1 | grep -v "^Ignoring" || true
	@$(PY) -c "import redbridge" 

# Stubs up to date, mypy --strict on the package and a typed example, then pytest
# (the differential test against redis-py, conformance vectors, behaviour).
test-python: py-env
	$(PY) bindings-python/tools/gen_stubs.py --check
	cd bindings-python && ../$(PYVENV)/bin/mypy --strict -p redbridge && ../$(PYVENV)/bin/mypy --strict tests/typing_example.py
	cd target && ../$(PYVENV)/bin/python -m mypy.stubtest redbridge  # the stubs against the built package
	$(PY) -m pytest bindings-python/tests -q -p no:cacheprovider --timeout=240
	@# Issue #16: redis-py's methods present / newer-server / module / declined / missing (exits 1 on missing).
	$(PY) bindings-python/tools/method_coverage.py

# What users install (issue #20), built once each into dist/ by packaging/dist.sh: the
# abi3 manylinux2014 wheel and the sdist, the npm package redbridge-V.tgz with its platform
# package redbridge-linux-x64-gnu-V.tgz (the prebuilt addon), libredbridge-V-linux-x86_64.tar.gz.
# Native code links against glibc 2.17 through zig (its tools go into target/dist-tools).
dist: deps
	packaging/dist.sh

# Each artefact installed as a user would, on a PATH without cargo, and used against a
# throwaway server: the wheel on CPython 3.10 and 3.13 (sync + asyncio), the sdist built by
# pip, the npm tarballs from CommonJS/ESM/TypeScript, the C tarball through pkg-config.
test-dist: dist
	packaging/test-dist.sh

# The Python or the npm part of test-dist alone.
test-python-install: dist
	DIST_PARTS="wheel sdist" packaging/test-dist.sh

# redis-py's own test suite (the 8.1.0 sdist, fetched into target/redis-py-suite, never
# committed): its command, pipeline, scripting, lock, function, hash and encoding tests, sync
# and asyncio, run with redis-py and then with redbridge swapped in by a fixture switch,
# against one throwaway redis-server. Prints the pass counts side by side and writes
# target/redis-py-suite/report.md (issue #16). The pytest plugins the suite needs
# (pytest-asyncio, pytest-timeout) go into target/redis-py-suite/plugins, not the venv, so
# test-python does not load them. Single failing tests do not fail it; it fails when
# redbridge passes fewer than 90% of redis-py's passes (sync or asyncio): a regression gate.
redis-py-suite: deps py-env
	python3 tests/redis-py-suite/run.py --floor 95

# npm install builds the addon (debug) through the package's "prepare" script.
node-env:
	cd $(NODE_DIR) && npm install --no-audit --no-fund --loglevel=error

# node --test (differential vs node-redis, conformance, behaviour) and tsc --strict on a typed example.
test-node: node-env
	cd $(NODE_DIR) && npm test
	cd $(NODE_DIR) && npm run typecheck --silent && echo "tsc --noEmit --strict: ok"
	@# Issue #16: node-redis 6.4's command methods present and matching (prints the counts).
	@# (Its exit code kept: a pipe into tail would hide it under sh.)
	cd $(NODE_DIR) && node scripts/method-coverage.js > ../target/method-coverage.txt; rc=$$?; tail -n 2 ../target/method-coverage.txt; exit $$rc

test-node-pack: dist
	DIST_PARTS=npm packaging/test-dist.sh

install:
	cargo build -q -p redbridge-c $(if $(filter release,$(PROFILE)),--release --features mimalloc,)
	install -d $(PREFIX)/lib/pkgconfig $(PREFIX)/include
	install -m 0644 target/$(PROFILE)/libredbridge.so target/$(PROFILE)/libredbridge.a $(PREFIX)/lib/
	install -m 0644 bindings-c/include/redbridge.h $(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' bindings-c/redbridge.pc.in > $(PREFIX)/lib/pkgconfig/redbridge.pc

# The bench is not a test: this only checks that a tiny run still works (debug builds,
# the anchors the test environments already have; figures under target/bench-quick/).
bench-quick: py-env node-env build-c
	@cargo build -q -p redbridge-bench
	@env -u REDIS_URL $(WITH_REDIS) bash -c 'QUICK=1 target/debug/sync_engine && python3 bench/run.py --quick && python3 bench/run.py --quick --cluster' > target/bench-quick.txt 2>&1 \
	  || { cat target/bench-quick.txt; exit 1; }
	@grep -q "sequential" target/bench-quick.txt && grep -q "## Targets of issue #8" target/bench-quick.txt \
	  && grep -q "Redis Cluster variant" target/bench-quick.txt \
	  && ! grep -q "FAILED" target/bench-quick.txt && echo "bench (QUICK=1): ran"

# The side-by-side run of issue #8 on release builds of everything measured, against a
# throwaway server: the wheel, the addon (and its npm tarball), libredbridge, the core's
# own sync-engine bench. Anchors go into target/bench-env (bench/run.py installs them).
bench: deps py-env node-env
	@cargo build -q --release -p redbridge-bench
	@cargo build -q --release -p redbridge-c --features mimalloc
	@$(PY) -m maturin build -q --release -o target/wheels > /dev/null
	@cd $(NODE_DIR) && node scripts/build.js --release > /dev/null && rm -f redbridge-*.tgz && npm pack -q > /dev/null
	@# The package as packed, unpacked where no later debug build of the addon replaces it mid-run.
	@rm -rf target/bench-node && mkdir -p target/bench-node && tar xzf $(NODE_DIR)/redbridge-*.tgz -C target/bench-node --strip-components=1 \
	  && ln -s ../../$(NODE_DIR)/node_modules target/bench-node/node_modules
	@env -u REDIS_URL BENCH_REDBRIDGE_NODE=$(CURDIR)/target/bench-node $(WITH_REDIS) bash -c 'target/release/sync_engine && echo && python3 bench/run.py $(if $(QUICK),--quick,)'
	@BENCH_REDBRIDGE_NODE=$(CURDIR)/target/bench-node python3 bench/run.py --cluster $(if $(QUICK),--quick,)
	@cd $(NODE_DIR) && node scripts/build.js > /dev/null
