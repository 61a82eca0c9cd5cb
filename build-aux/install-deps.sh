#!/bin/sh
# Installs what building, testing and the demo need, on Debian/Ubuntu (as root).
# Elsewhere it prints what to install and fails. Idempotent: installs only what
# is missing.
set -eu

PKGS="ostree libostree-dev gir1.2-ostree-1.0 dbus dbus-daemon polkitd pkexec
libpolkit-gobject-1-dev libglib2.0-dev bubblewrap python3-dbus python3-gi
meson ninja-build gnupg curl pkg-config util-linux e2fsprogs cpio
rpm createrepo-c libdnf-dev libsqlite3-dev fuse3 zstd qtbase5-dev-tools
libzstd-dev skopeo docker-registry"

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<MSG
install-deps.sh: this is not a Debian/Ubuntu system. Install the equivalents of:
  $(echo $PKGS)
(libostree >= 2022.7 with its development files, GLib/GIO development files,
dbus-daemon, polkitd and libpolkit-gobject-1 development files, bubblewrap,
python3 with PyGObject and dbus-python, meson, ninja, gnupg, pkg-config, Qt 5's
qdbusxml2cpp),
and a Rust toolchain (cargo, rustfmt, clippy).
MSG
    exit 1
fi

missing=
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps.sh: missing packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "Installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
for tool in cargo rustfmt cargo-clippy; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-deps.sh: '$tool' not found: install a Rust toolchain (rustup, with rustfmt and clippy)" >&2
        exit 1
    fi
done
