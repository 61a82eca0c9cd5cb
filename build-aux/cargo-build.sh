#!/bin/sh
# cargo-build.sh SRCDIR BUILDDIR PROFILE LIBEXECDIR OUTPUT: builds the binary
# named like OUTPUT (the client rpm-ostree, or the daemon rpm-ostreed, which
# `rpm-ostree start-daemon` finds in LIBEXECDIR) with cargo (meson 1.0 has no
# native cargo support) and copies it to OUTPUT; an OUTPUT named
# librpmostree-1.so.* gets the C library (crates/librpmostree), and
# rpm-ostreed-container the container helper (crates/container-helper, a cargo
# workspace of its own, in TARGET/container-helper). CARGO_TARGET_DIR,
# if set, is honoured (lets `make check` reuse its build).
set -eu
src=$1 build=$2 profile=$3 libexecdir=$4 output=$5
bin=$(basename "$output")
target=${CARGO_TARGET_DIR:-$build/cargo-target}
release=
[ "$profile" = release ] && release=--release
case $bin in
librpmostree-1.so.*)
    cargo build --manifest-path "$src/Cargo.toml" --target-dir "$target" $release \
        -p librpmostree --lib
    cp "$target/$profile/librpmostree1.so" "$output" ;;
rpm-ostreed-container)
    # Its own workspace (crates/container-helper) and target directory.
    cargo build --manifest-path "$src/crates/container-helper/Cargo.toml" \
        --target-dir "$target/container-helper" $release
    cp "$target/container-helper/$profile/$bin" "$output" ;;
*)
    RPMOSTREE_LIBEXECDIR=$libexecdir cargo build --manifest-path "$src/Cargo.toml" \
        --target-dir "$target" $release --bin "$bin"
    cp "$target/$profile/$bin" "$output" ;;
esac
