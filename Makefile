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

lint: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test: deps
	$(CARGO) test

meson-check: deps
	build-aux/meson-check.sh

check: lint test meson-check

# Speed and memory against the raw libostree CLI, measured in one run.
bench: build-release
	build-aux/bench.sh target/release/rpm-ostree

clean:
	$(CARGO) clean
