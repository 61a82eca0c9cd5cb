#!/bin/sh
# meson-check.sh: the packaging check of `make check`. Configures a meson build,
# installs into a scratch DESTDIR and compares the installed file list with
# build-aux/expected-install.txt; then checks what the installed files must do
# (which binaries link what, a C client built against librpmostree-1's headers
# and .pc, qdbusxml2cpp on the interface XML). Cleans up after itself.
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
# The library directory is the platform's (lib/x86_64-linux-gnu on Debian):
# @libdir@ in the expected list.
libdir=$(meson introspect --buildoptions "$work/build" |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"))')
sed "s|@libdir@|$libdir|" "$src/build-aux/expected-install.txt" | LC_ALL=C sort >"$work/expected.txt"
if ! diff -u "$work/expected.txt" "$work/installed.txt"; then
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
# librpmostree-1 as a client builds against it: the installed headers and
# rpm-ostree-1.pc (its paths moved into the staging directory) compile and link
# the C test client, which runs against the installed library; the library
# links none of the daemon's libraries.
lib=$work/dest/usr/$libdir
if ldd "$lib/librpmostree-1.so.1.0.0" | grep -q -e libdnf -e polkit; then
    echo "meson-check: librpmostree-1 links libdnf or polkit" >&2
    exit 1
fi
readelf -d "$lib/librpmostree-1.so.1.0.0" | grep -q 'Library soname: \[librpmostree-1.so.1\]'
mkdir "$work/pc"
sed -e "s|^prefix=/usr|prefix=$work/dest/usr|" "$lib/pkgconfig/rpm-ostree-1.pc" >"$work/pc/rpm-ostree-1.pc"
# shellcheck disable=SC2046
cc -Wall -Werror -o "$work/client" "$src/crates/librpmostree/tests/c/client.c" \
    $(PKG_CONFIG_PATH="$work/pc" pkg-config --cflags --libs rpm-ostree-1)
LD_LIBRARY_PATH=$lib "$work/client" api >/dev/null
# Qt clients generate proxies from the installed interface XML.
mkdir "$work/qt"
(cd "$work/qt" && qdbusxml2cpp -p proxy -a adaptor \
    "$work/dest/usr/share/dbus-1/interfaces/org.projectatomic.rpmostree1.xml") 2>"$work/qt.log" ||
    { cat "$work/qt.log" >&2; exit 1; }
if [ -s "$work/qt.log" ]; then cat "$work/qt.log" >&2; exit 1; fi
echo "meson-check: $(wc -l <"$work/installed.txt") files installed as expected"
