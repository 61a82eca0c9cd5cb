#!/bin/bash
# build.sh OUTDIR
#
# Builds every test package of tests/testbed/rpms/specs/*.spec (tiny noarch
# packages, names tp-*; see README) and copies them into OUTDIR as
#   OUTDIR/<name>-<version>-<release>.noarch.rpm
# (the usual rpm file name: no epoch, e.g. tp-base-epoch-1.0-1.noarch.rpm;
# tp-base-tilde-2.0~rc1-1.noarch.rpm). OUTDIR is created if missing; files of the
# same name are overwritten, other files are left alone.
#
# Reproducible: the same spec gives a byte-identical RPM on every build
# (SOURCE_DATE_EPOCH=1704067200 = 2024-01-01 used as build time and as clamp for
# file mtimes, fixed _buildhost, gzip payload, no brp scripts, no build-id links,
# umask 022, LC_ALL=C, TZ=UTC, HOME pointing at an empty temp dir so that no
# ~/.rpmmacros applies). The RPMs in OUTDIR have mtime 1704067200.
#
# Cache: RPMs are built once into
#   ${TESTBED_RPMS_CACHE_ROOT:-/var/tmp}/rpmostree-testbed-rpms-<key>/
# where <key> is a sha256 (first 32 hex digits) of this script, the names and
# contents of the spec files and `rpmbuild --version`. Any change to a spec or to
# this script gives a new key (a new cold build). The build runs under
# flock(<cache dir>.lock) into a temp dir that is renamed into place when complete,
# so concurrent callers are safe and a cache dir, once it exists, is complete.
# OUTDIR receives copies (not hardlinks: a test may modify its RPMs).
#
# Output: nothing on stdout on success; on failure rpmbuild's log on stderr and a
# non-zero exit. Timing (2 cores, Debian 12, rpm 4.18): cold ~0.7 s for all
# packages, warm (cache hit) ~0.02 s.
# Cleanup: rm -rf OUTDIR. The cache persists; remove it with
#   rm -rf /var/tmp/rpmostree-testbed-rpms-*
# (stale keys are never removed automatically).
set -euo pipefail

SDE=1704067200   # 2024-01-01 00:00:00 UTC

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
outdir=$1
here=$(cd "$(dirname "$0")" && pwd)
specdir=$here/specs

export LC_ALL=C TZ=UTC
umask 022

specs=()
while IFS= read -r f; do specs+=("$f"); done < <(find "$specdir" -maxdepth 1 -name '*.spec' | sort)
[ ${#specs[@]} -gt 0 ] || { echo "build.sh: no spec files in $specdir" >&2; exit 1; }

key=$( {
    cat "$here/build.sh"
    rpmbuild --version
    (cd "$specdir" && for f in "${specs[@]}"; do printf '%s\0' "${f##*/}"; done |
        xargs -0 sha256sum --)
} | sha256sum | cut -c1-32)
cacheroot=${TESTBED_RPMS_CACHE_ROOT:-/var/tmp}
cache=$cacheroot/rpmostree-testbed-rpms-$key

build_into() {  # build_into DIR: build all specs, leave only the RPMs in DIR
    local dir=$1 log
    log=$dir/build.log
    mkdir -p "$dir/home" "$dir/rpms"
    if ! HOME=$dir/home SOURCE_DATE_EPOCH=$SDE rpmbuild -bb --nodeps --quiet \
        --define "_topdir $dir/top" \
        --define "_tmppath $dir/tmp" \
        --define "_rpmdir $dir/rpms" \
        --define '_rpmfilename %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
        --define 'debug_package %{nil}' \
        --define '_build_id_links none' \
        --define '__os_install_post %{nil}' \
        --define '_buildhost testbed.invalid' \
        --define 'use_source_date_epoch_as_buildtime 1' \
        --define 'clamp_mtime_to_source_date_epoch 1' \
        --define 'source_date_epoch_from_changelog 0' \
        --define '_binary_payload w9.gzdio' \
        "${specs[@]}" > "$log" 2>&1 < /dev/null; then
        echo "build.sh: rpmbuild failed:" >&2
        cat "$log" >&2
        return 1
    fi
    local n
    n=$(find "$dir/rpms" -name '*.rpm' | wc -l)
    if [ "$n" -ne ${#specs[@]} ]; then
        echo "build.sh: expected ${#specs[@]} RPMs, rpmbuild made $n:" >&2
        cat "$log" >&2
        return 1
    fi
    find "$dir/rpms" -name '*.rpm' -exec touch -h -d "@$SDE" {} +
}

if [ ! -d "$cache" ]; then
    mkdir -p "$cacheroot"
    exec 9> "$cache.lock"
    flock 9
    if [ ! -d "$cache" ]; then
        tmp=$(mktemp -d "$cache.tmp.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        build_into "$tmp"
        mkdir "$tmp/final"
        find "$tmp/rpms" -name '*.rpm' -exec mv -t "$tmp/final" {} +
        chmod 0755 "$tmp/final"
        mv -T "$tmp/final" "$cache"
        rm -rf "$tmp"
        trap - EXIT
    fi
    exec 9>&-
fi

mkdir -p "$outdir"
cp --preserve=timestamps "$cache"/*.rpm "$outdir/"
