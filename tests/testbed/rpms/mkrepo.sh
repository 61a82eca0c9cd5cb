#!/bin/bash
# mkrepo.sh [--revision SECONDS] [--xz] REPODIR [RPM...]
#
# Makes REPODIR an rpm-md repository (what dnf/libsolv/rpm-ostree read, e.g. over
# `httpd.py` or a file:// baseurl): copies the given RPM files into REPODIR (created
# if missing; a file of the same name is overwritten) and indexes ALL *.rpm files
# at the top of REPODIR, so repeated calls add packages to the same repo. With no
# RPM arguments it (re)indexes what is there; an empty REPODIR gives a valid, empty
# repository.
#
# Options:
#   --revision N  repomd <revision> and every <timestamp> (default 1704067200 =
#                 2024-01-01 UTC); bump it to make a "new" repo state
#   --xz          xz-compressed repodata (default gzip)
#
# Creates:
#   REPODIR/*.rpm                    copies (mtime set to the revision)
#   REPODIR/repodata/repomd.xml      checksums sha256, unique (checksum-prefixed)
#   REPODIR/repodata/<sha256>-{primary,filelists,other}.xml.gz (.xz with --xz)
# An existing REPODIR/repodata is removed first. No sqlite databases (--no-database:
# dnf and libsolv do not need them). No .repo file: tests write their own, e.g.
#   [tp] baseurl=file:///path/to/REPODIR  gpgcheck=0
#
# Deterministic: the same RPM files and options give byte-identical repodata:
#   createrepo_c 0.17.3 --no-database --workers 1 --checksum sha256
#   --repomd-checksum sha256 --revision N --set-timestamp-to-revision,
# with every RPM's mtime set to N first (primary.xml records <time file=...>, the
# file mtime) and the mtimes of repodata/* and REPODIR set to N afterwards (HTTP
# Last-Modified). Not deterministic: nothing that we found; createrepo_c 0.17.3 has
# no zstd and no way to choose the gzip level, and sqlite databases (not made here)
# would embed their own state.
# Nothing on stdout; createrepo_c runs with --quiet (errors on stderr). ~15-25 ms.
# Cleanup: rm -rf REPODIR.
set -euo pipefail

revision=1704067200
compress=gz
usage() { echo "usage: $0 [--revision SECONDS] [--xz] REPODIR [RPM...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --revision) [ $# -ge 2 ] || usage; revision=$2; shift 2;;
        --revision=*) revision=${1#--revision=}; shift;;
        --xz) compress=xz; shift;;
        --) shift; break;;
        -*) echo "mkrepo.sh: unknown option $1" >&2; usage;;
        *) break;;
    esac
done
case $revision in ''|*[!0-9]*) echo "mkrepo.sh: --revision must be a number: $revision" >&2; exit 2;; esac
[ $# -ge 1 ] || usage
repo=$1
shift

export LC_ALL=C TZ=UTC
umask 022

for f in "$@"; do
    [ -f "$f" ] || { echo "mkrepo.sh: no such RPM file: $f" >&2; exit 1; }
    case $f in *.rpm) ;; *) echo "mkrepo.sh: not an .rpm file: $f" >&2; exit 1;; esac
done
mkdir -p "$repo"
if [ $# -gt 0 ]; then
    cp -f -- "$@" "$repo/"
fi
find "$repo" -maxdepth 1 -name '*.rpm' -type f -exec touch -d "@$revision" {} +
rm -rf "$repo/repodata" "$repo/.repodata"

createrepo_c --quiet --no-database --workers 1 --checksum sha256 --repomd-checksum sha256 \
    --general-compress-type="$compress" \
    --revision "$revision" --set-timestamp-to-revision "$repo" < /dev/null
touch -d "@$revision" "$repo"/repodata/* "$repo/repodata" "$repo"
