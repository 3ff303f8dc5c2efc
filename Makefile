# redbridge — the two commands: `make demo` and `make test`.
#   make demo    a runnable tour against REDIS_URL, or a throwaway redis-server
#   make test    every test suite (installs redis-server when missing and root)
#   make bench   benchmarks (QUICK=1 for a tiny run)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)
WITH_REDIS := tests/harness/with-redis.sh

.PHONY: demo test bench deps lint test-core bench-quick

deps:
	@tests/harness/ensure-deps.sh

demo: deps
	@cargo build -q -p redbridge --example tour
	@$(WITH_REDIS) target/debug/examples/tour

test: deps lint test-core bench-quick
	@echo "make test: all suites passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# cargo prints a "test result:" line per test binary; the last line sums them.
test-core:
	@mkdir -p target
	cargo test --workspace 2>&1 | tee target/test-core.log
	@awk '/^test result:/ {p+=$$4; f+=$$6; i+=$$8} END {printf "core: %d passed, %d failed, %d skipped\n", p, f, i}' target/test-core.log

# The bench is not a test: this only checks that a tiny run still works.
bench-quick:
	@mkdir -p target
	@cargo build -q -p redbridge-bench
	@QUICK=1 $(WITH_REDIS) target/debug/sync_engine > target/bench-quick.txt
	@grep -q "sequential" target/bench-quick.txt && echo "bench (QUICK=1): ran"

bench: deps
	@cargo build -q --release -p redbridge-bench
	@$(WITH_REDIS) target/release/sync_engine
