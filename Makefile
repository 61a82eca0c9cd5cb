# The two entry points of the README, plus their parts.
CARGO ?= cargo

.PHONY: all deps build build-release demo check lint test meson-check bench clean

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

clean:
	$(CARGO) clean
