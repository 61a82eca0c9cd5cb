#!/bin/sh
# meson-check.sh: the packaging check of `make check`. Configures a meson build,
# installs into a scratch DESTDIR and compares the installed file list with
# build-aux/expected-install.txt. Cleans up after itself.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rpm-ostree-meson.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Reuse the debug build of the test suite instead of compiling again.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$src/target}"
meson setup --prefix=/usr --buildtype=debug "$work/build" "$src" >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log" >&2; exit 1; }
meson compile -C "$work/build" >"$work/compile.log" 2>&1 ||
    { cat "$work/compile.log" >&2; exit 1; }
DESTDIR="$work/dest" meson install -C "$work/build" --no-rebuild >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; exit 1; }
(cd "$work/dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | LC_ALL=C sort) >"$work/installed.txt"
if ! diff -u "$src/build-aux/expected-install.txt" "$work/installed.txt"; then
    echo "meson-check: the installed file list differs from build-aux/expected-install.txt" >&2
    exit 1
fi
# The substituted files name the installed binary.
grep -q '^Exec=/usr/bin/rpm-ostree start-daemon$' \
    "$work/dest/usr/share/dbus-1/system-services/org.projectatomic.rpmostree1.service"
grep -q '^ExecStart=+/usr/bin/rpm-ostree start-daemon$' \
    "$work/dest/usr/lib/systemd/system/rpm-ostreed.service"
# Only the daemon loads libostree; the client starts light.
if ldd "$work/dest/usr/bin/rpm-ostree" | grep -q libostree; then
    echo "meson-check: /usr/bin/rpm-ostree links libostree" >&2
    exit 1
fi
ldd "$work/dest/usr/libexec/rpm-ostreed" | grep -q libostree
# Only the rpm-md helper loads libdnf (and librpm, libsolv, librepo).
for exe in usr/bin/rpm-ostree usr/libexec/rpm-ostreed; do
    if ldd "$work/dest/$exe" | grep -q libdnf; then
        echo "meson-check: /$exe links libdnf" >&2
        exit 1
    fi
done
ldd "$work/dest/usr/libexec/rpm-ostreed-dnf" | grep -q libdnf
echo "meson-check: $(wc -l <"$work/installed.txt") files installed as expected"
