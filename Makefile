# The two entry points of the README, plus their parts.
CARGO ?= cargo

.PHONY: all deps build build-release demo check lint test meson-check bench fuzz clean \
	container-helper

# The container helper (rpm-ostreed-container): its own cargo workspace
# (crates/container-helper, ostree-ext 0.15.3 on glib-rs 0.18), built into its
# own target dir; tests find it through RPMOSTREE_CONTAINER_HELPER.
HELPER_CARGO = --manifest-path crates/container-helper/Cargo.toml \
	--target-dir target/container-helper
export RPMOSTREE_CONTAINER_HELPER = $(CURDIR)/target/container-helper/debug/rpm-ostreed-container

all: build

deps:
	build-aux/install-deps.sh

build: deps container-helper
	$(CARGO) build

container-helper: deps
	$(CARGO) build $(HELPER_CARGO)
	@# Beside the daemon's executable, where the daemon looks for it.
	mkdir -p target/debug
	ln -f target/container-helper/debug/rpm-ostreed-container target/debug/rpm-ostreed-container

build-release: deps
	$(CARGO) build --release
	$(CARGO) build --release $(HELPER_CARGO)
	@# The release daemon finds the release helper beside it.
	ln -f target/container-helper/release/rpm-ostreed-container target/release/rpm-ostreed-container

# A throwaway world (sysroot, remote, private bus, polkitd, booted namespace),
# the daemon doing its job through the CLI, then everything cleaned up.
demo: build-release
	build-aux/demo.sh target/release/rpm-ostree

# Formatting, clippy, and the module dependency rules of design.md
# (build-aux/import-rules.txt, checked by crates/import-graph).
lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path crates/container-helper/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy $(HELPER_CARGO) --all-targets -- -D warnings
	$(CARGO) run --quiet -p import-graph -- src build-aux/import-rules.txt

test: deps container-helper
	$(CARGO) test $(HELPER_CARGO)
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
