# The two entry points of the README, plus their parts.
CARGO ?= cargo

.PHONY: all deps build build-release demo check lint test meson-check bench fuzz clean

all: build

deps:
	build-aux/install-deps.sh

build: deps
	$(CARGO) build

build-release: deps
	$(CARGO) build --release

# A throwaway world (sysroot, remote, private bus, polkitd, booted namespace),
# the daemon doing its job through the CLI, then everything cleaned up.
demo: build-release
	build-aux/demo.sh target/release/rpm-ostree

# Formatting, clippy, and the module dependency rules of design.md
# (build-aux/import-rules.txt, checked by crates/import-graph).
lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) run --quiet -p import-graph -- src build-aux/import-rules.txt

test: deps
	$(CARGO) test --workspace

meson-check: deps
	build-aux/meson-check.sh

check: lint test meson-check

# Speed and memory against the raw libostree CLI, measured in one run.
bench: build-release
	$(CARGO) build --release -p genpkgs
	build-aux/bench.sh target/release/rpm-ostree

# Seeded random D-Bus calls against the daemon on the test bed (tests/fuzz.rs):
# FUZZ_SEED (default 1), FUZZ_CALLS per user (default 2000).
fuzz: deps
	FUZZ_SEED=$${FUZZ_SEED:-1} FUZZ_CALLS=$${FUZZ_CALLS:-2000} \
		$(CARGO) test --test fuzz -- --ignored --nocapture

clean:
	$(CARGO) clean
