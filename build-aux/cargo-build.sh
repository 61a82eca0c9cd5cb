#!/bin/sh
# cargo-build.sh SRCDIR BUILDDIR PROFILE OUTPUT: builds the rpm-ostree binary
# with cargo (meson 1.0 has no native cargo support) and copies it to OUTPUT.
# CARGO_TARGET_DIR, if set, is honoured (lets `make check` reuse its build).
set -eu
src=$1 build=$2 profile=$3 output=$4
target=${CARGO_TARGET_DIR:-$build/cargo-target}
if [ "$profile" = release ]; then
    cargo build --manifest-path "$src/Cargo.toml" --target-dir "$target" --release --bin rpm-ostree
else
    cargo build --manifest-path "$src/Cargo.toml" --target-dir "$target" --bin rpm-ostree
fi
cp "$target/$profile/rpm-ostree" "$output"
