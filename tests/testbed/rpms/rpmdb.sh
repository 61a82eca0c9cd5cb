#!/bin/bash
# rpmdb.sh [--epoch SECONDS] TREE RPM...
#
# Writes the headers of the given RPM files into an sqlite rpm database at
# TREE/usr/share/rpm (what rpm-ostree's trees carry), without installing any file
# of the packages:
#   rpm --root TREE --dbpath /usr/share/rpm -i --justdb --nodeps --noscripts
#       --notriggers --nosignature --nodigest --ignoresize RPM...
# (Debian's rpm defaults %_dbpath to ~/.rpmdb, so --dbpath is always given.)
#
# Arguments:
#   TREE      an existing directory (an empty one is fine)
#   RPM...    one or more .rpm files (e.g. from build.sh). The order of the
#             arguments does not matter: they are sorted by file name first.
#   --epoch   the install time to record (default 1704067200 = 2024-01-01 UTC)
# If TREE/usr/share/rpm already holds a database, the packages are added to it
# (installing a package that is already there is an error).
#
# Creates (only under TREE):
#   usr/share/rpm/rpmdb.sqlite           a single file: journal_mode=DELETE, no
#                                        -wal/-shm files, no .rpm.lock left behind
#   usr/lib/sysimage/rpm -> ../../share/rpm   (symlink; an existing correct one is
#                                        kept, anything else there is an error)
#
# Deterministic: the same RPMs (and --epoch) give a byte-identical rpmdb.sqlite
# every time. rpm 4.18 (verified on Debian 12's 4.18.0) takes the transaction time
# from SOURCE_DATE_EPOCH when it is set (rpmtsCreate: overrideTime), so we run rpm
# with SOURCE_DATE_EPOCH=SECONDS: INSTALLTID = SECONDS for every package and
# INSTALLTIME = SECONDS, SECONDS+1, ... in install order (without it, both are the
# wall clock and two runs differ). Everything else in the header comes from the RPM;
# the sqlite file is a pure function of the sequence of inserts, and rpm's install
# order depends on the argument order, hence the sort. The WAL is checkpointed and
# the database switched to rollback-journal mode (`PRAGMA journal_mode=DELETE`), so
# that it is one self-contained file (a WAL database wants a writable -shm even to
# be read; read-only queries of the result create no files and change no byte).
# HOME points at an empty temp dir during the run so that no ~/.rpmmacros applies.
#
# rpm's "use Alien" warning (a Debian patch) is filtered out of stderr; any other
# message of rpm goes to stderr. Nothing on stdout. ~30 ms for 6 packages.
# Check with:
#   rpm -qa --root TREE --dbpath /usr/share/rpm \
#       --qf '%{NAME}-%{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\n'
# Cleanup: rm -rf TREE/usr/share/rpm TREE/usr/lib/sysimage/rpm (or the whole TREE).
set -euo pipefail

epoch=1704067200
usage() { echo "usage: $0 [--epoch SECONDS] TREE RPM..." >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --epoch) [ $# -ge 2 ] || usage; epoch=$2; shift 2;;
        --epoch=*) epoch=${1#--epoch=}; shift;;
        --) shift; break;;
        -*) echo "rpmdb.sh: unknown option $1" >&2; usage;;
        *) break;;
    esac
done
case $epoch in ''|*[!0-9]*) echo "rpmdb.sh: --epoch must be a number: $epoch" >&2; exit 2;; esac
[ $# -ge 2 ] || usage
tree=$1
shift
[ -d "$tree" ] || { echo "rpmdb.sh: $tree is not a directory" >&2; exit 1; }
tree=$(cd "$tree" && pwd)

export LC_ALL=C TZ=UTC
umask 022

# Absolute paths, sorted by file name (then by full path), duplicates refused.
rpms=()
for f in "$@"; do
    [ -f "$f" ] || { echo "rpmdb.sh: no such RPM file: $f" >&2; exit 1; }
    case $f in /*) ;; *) f=$PWD/$f;; esac
    rpms+=("$f")
done
sorted=()
while IFS= read -r -d '' line; do
    sorted+=("${line#*/}")   # strip the sort key "BASENAME/"
done < <(for f in "${rpms[@]}"; do printf '%s/%s\0' "${f##*/}" "$f"; done | sort -z)
prev=
for f in "${sorted[@]}"; do
    [ "${f##*/}" != "$prev" ] || { echo "rpmdb.sh: RPM given twice: ${f##*/}" >&2; exit 1; }
    prev=${f##*/}
done

dbdir=$tree/usr/share/rpm
mkdir -p "$dbdir" "$tree/usr/lib/sysimage"
link=$tree/usr/lib/sysimage/rpm
if [ -L "$link" ]; then
    [ "$(readlink "$link")" = ../../share/rpm ] ||
        { echo "rpmdb.sh: $link points elsewhere: $(readlink "$link")" >&2; exit 1; }
elif [ -e "$link" ]; then
    echo "rpmdb.sh: $link exists and is not a symlink" >&2
    exit 1
else
    ln -s ../../share/rpm "$link"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rpmdb-sh.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home"

rc=0
HOME=$tmp/home SOURCE_DATE_EPOCH=$epoch rpm --root "$tree" --dbpath /usr/share/rpm \
    -i --justdb --nodeps --noscripts --notriggers --nosignature --nodigest --ignoresize \
    "${sorted[@]}" > "$tmp/out" 2>&1 < /dev/null || rc=$?
grep -v -e '^rpm: RPM should not be used directly install RPM packages, use Alien instead!$' \
    -e '^rpm: However assuming you know what you are doing\.\.\.$' "$tmp/out" >&2 || true

# Fold the WAL into the main file and leave a single, rollback-journal database
# (also after a failure of rpm, so that no -wal/-shm/lock files are left behind).
db=$dbdir/rpmdb.sqlite
if [ ! -f "$db" ]; then
    rm -f "$dbdir/.rpm.lock"
    echo "rpmdb.sh: rpm did not create $db (rpm exit $rc)" >&2
    exit 1
fi
if command -v sqlite3 > /dev/null; then
    sqlite3 "$db" 'PRAGMA journal_mode=DELETE;' > /dev/null
else
    /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA journal_mode=DELETE"); c.close()' "$db"
fi
rm -f "$dbdir/.rpm.lock" "$db-shm" "$db-wal" "$db-journal"
for f in "$db-shm" "$db-wal" "$db-journal" "$dbdir/.rpm.lock"; do
    [ ! -e "$f" ] || { echo "rpmdb.sh: could not remove $f" >&2; exit 1; }
done
if [ "$rc" -ne 0 ]; then
    echo "rpmdb.sh: rpm failed (exit $rc)" >&2
    exit 1
fi
