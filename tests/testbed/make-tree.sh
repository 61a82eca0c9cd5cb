#!/bin/bash
# make-tree.sh TREE_DIR VERSION [NFILES]
#
# Writes a small, committable fake OS tree ("testos") into TREE_DIR, laid out the
# way `ostree admin deploy` wants it (see /work/shared/spec/testbed.md §1).
#
# Arguments:
#   TREE_DIR  directory to fill; must not exist or be empty (created if missing)
#   VERSION   version string (e.g. 1, 2, 3, other-1); ends up in
#             usr/lib/os-release (VERSION_ID=), usr/share/testos/version and in the
#             content of every usr/share/testos/files/* file, so that trees of
#             different versions give different commits
#   NFILES    number of small distinct files under usr/share/testos/files/ (default 20)
#
# Creates (only under TREE_DIR):
#   usr/{bin,sbin,lib,lib64}                   (dirs; host binaries come from the /usr
#                                               overlay of booted-init.sh)
#   usr/etc/{os-release,passwd,group}           (no top-level etc/)
#   usr/lib/os-release                          (ID=testos, VERSION_ID=VERSION)
#   usr/lib/modules/$KVER/{vmlinuz,initramfs.img}  fake, identical for every VERSION
#                                               (KVER=6.1.0-testos, fixed)
#   usr/bin/{sh,true,sleep} + their libraries  copies of the host's (dash, coreutils)
#   usr/bin/dracut                              POSIX-sh stand-in for dracut: writes
#                                               "FAKE-INITRAMFS args: <args>" to the output
#                                               (then "sandbox caps: <CapEff hex>" and
#                                               "sandbox net: <interfaces>")
#                                               file; appends its argv to
#                                               $TESTBED_DRACUT_LOG if that is set
#   usr/share/testos/version                    VERSION
#   usr/share/testos/files/file-NNNN            NFILES small files
#   usr/share/rpm/rpmdb.sqlite                  a real (sqlite) rpm database of the
#                                               base packages of VERSION (rpms/README:
#                                               v1, v2, v3 differ in all four ways);
#                                               usr/lib/sysimage/rpm -> ../../share/rpm
#   empty dirs: sysroot boot proc sys dev run tmp var root home mnt opt srv media
#   symlinks:   ostree -> sysroot/ostree, bin -> usr/bin, lib -> usr/lib,
#               lib64 -> usr/lib64, sbin -> usr/sbin
# Cleanup: rm -rf TREE_DIR.
set -euo pipefail

KVER=6.1.0-testos

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 TREE_DIR VERSION [NFILES]" >&2
    exit 2
fi
tree=$1 version=$2 nfiles=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
case $nfiles in ''|*[!0-9]*) echo "make-tree.sh: NFILES must be a number: $nfiles" >&2; exit 2;; esac

mkdir -p "$tree"
if [ -n "$(ls -A "$tree")" ]; then
    echo "make-tree.sh: $tree is not empty" >&2
    exit 1
fi
cd "$tree"

mkdir -p usr/bin usr/sbin usr/lib usr/lib64 usr/etc "usr/lib/modules/$KVER" \
    usr/share/testos/files
mkdir sysroot boot proc sys dev run tmp var root home mnt opt srv media
ln -s sysroot/ostree ostree
ln -s usr/bin bin
ln -s usr/lib lib
ln -s usr/lib64 lib64
ln -s usr/sbin sbin

cat > usr/lib/os-release <<OSR
NAME="Test OS"
ID=testos
VERSION="$version"
VERSION_ID=$version
PRETTY_NAME="Test OS $version"
OSR
cp usr/lib/os-release usr/etc/os-release
cp /etc/passwd /etc/group usr/etc/

# A working /usr/bin/sh, true and sleep with the libraries they need (the tree's
# own dracut below is a shell script, run inside the tree by the daemon), at the
# paths the dynamic loader looks for them (/lib -> usr/lib, /lib64 -> usr/lib64).
for bin in /bin/sh /bin/true /bin/sleep; do
    real=$(readlink -f "$bin")
    cp "$real" "usr/bin/$(basename "$bin")"
    for lib in $(ldd "$real" | awk '$1 ~ /^\// { print $1 } $3 ~ /^\// { print $3 }'); do
        case $lib in
            /usr/*) dest=${lib#/} ;;
            *) dest=usr${lib} ;;
        esac
        mkdir -p "$(dirname "$dest")"
        [ -e "$dest" ] || cp "$(readlink -f "$lib")" "$dest"
    done
done

# Fixed kernel and initramfs: the same boot checksum for every VERSION.
echo "FAKE-KERNEL $KVER" > "usr/lib/modules/$KVER/vmlinuz"
echo "FAKE-INITRAMFS $KVER" > "usr/lib/modules/$KVER/initramfs.img"

cat > usr/bin/dracut <<'DRACUT'
#!/bin/sh
# Fake dracut for the rpm-ostree test bed. Accepts dracut's command line
# (dracut [OPTION...] [<output_file> [<kernel_version>]]), writes a recognisable
# text image to the output file, and logs its argv to $TESTBED_DRACUT_LOG if set.
if [ -n "${TESTBED_DRACUT_LOG:-}" ]; then
    printf '%s\n' "$*" >> "$TESTBED_DRACUT_LOG"
fi
all="$*"
out= kver=
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help)
            echo "Usage: dracut [OPTION]... [<initramfs> [<kernel-version>]]"
            echo "  --reproducible  fake dracut (rpm-ostree test bed)"
            exit 0;;
        --testbed-fail)
            echo "dracut: failing on purpose (--testbed-fail)" >&2
            exit 1;;
        --kver) kver=$2; shift;;
        --kver=*) kver=${1#--kver=};;
        # options that take a separate value
        -a|-d|-o|-m|-I|-i|-k|-c|-L|-r|--add|--force-add|--omit|--modules|--drivers|\
        --add-drivers|--force-drivers|--omit-drivers|--filesystems|--install|\
        --install-optional|--fwdir|--libdirs|--fscks|--add-fstab|--mount|\
        --add-device|--device|--kernel-cmdline|--kmoddir|--conf|--confdir|--tmpdir|\
        --sysroot|--compress|--include|--uefi-stub|--kernel-image|--loginstall|\
        --stdlog|--sshkey|--logfile)
            [ "$1" = --include ] && shift
            shift;;
        -*) ;;
        *) if [ -z "$out" ]; then out=$1; elif [ -z "$kver" ]; then kver=$1; fi;;
    esac
    shift
done
[ -n "$kver" ] || kver=$(uname -r)
[ -n "$out" ] || out=/boot/initramfs-$kver.img
printf 'FAKE-INITRAMFS args: %s\n' "$all" > "$out"
# What the sandbox allows it, with shell builtins only (the tree has no tools):
# its effective capabilities and the network interfaces it sees.
while read -r key value; do
    [ "$key" = CapEff: ] && printf 'sandbox caps: %s\n' "$value" >> "$out"
done < /proc/self/status
ifaces=
while IFS=: read -r name rest; do
    [ -n "$rest" ] && ifaces="$ifaces${ifaces:+ }$(echo $name)"
done < /proc/net/dev
printf 'sandbox net: %s\n' "$ifaces" >> "$out"
DRACUT
chmod 0755 usr/bin/dracut

# The rpm database of the version's base packages (built once, cached).
rpms=$(mktemp -d)
trap 'rm -rf "$rpms"' EXIT
"$here/rpms/build.sh" "$rpms"
mapfile -t pkgs < <("$here/rpms/pkglist.sh" "$version" "$rpms")
"$here/rpms/rpmdb.sh" "$PWD" "${pkgs[@]}"
# ... and their files (all under /usr/share/<name>/).
for p in "${pkgs[@]}"; do
    rpm2cpio "$p" | cpio -idmu --quiet
done

printf '%s\n' "$version" > usr/share/testos/version
awk -v n="$nfiles" -v v="$version" 'BEGIN {
    for (i = 0; i < n; i++) {
        f = sprintf("usr/share/testos/files/file-%04d", i)
        printf "testos version %s file %04d\n", v, i > f
        close(f)
    }
}'
