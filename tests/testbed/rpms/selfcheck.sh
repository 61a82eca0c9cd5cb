#!/bin/bash
# selfcheck.sh
#
# Self-test of tests/testbed/rpms (build.sh, rpmdb.sh, mkrepo.sh, pkglist.sh and the
# specs). Run as root (rpm --root, chroot for scriptlets). Checks:
#   1. build.sh: a cold build into a private cache, a warm build (cache hit), and two
#      concurrent cold builds into a second private cache all give the same 18 RPMs,
#      byte for byte (reproducible rpmbuild, flock-safe cache); nothing on stdout;
#   2. the headers: NEVRA of every file, Summary/License, tp-base-core provides
#      /bin/sh, tp-app's dependencies, scriptlets and special files (suid, caps,
#      %config(noreplace), /var dir owned nobody:nogroup), tp-fail's %post,
#      tp-conflict's Conflicts; rpm's EVR order for the tilde/epoch/downgrade cases;
#   3. rpmdb.sh: rpmdbs for empty trees v1, v2, v3, other-1; `rpm -qa` gives exactly
#      the pkglist.sh sets; symlink usr/lib/sysimage/rpm; only rpmdb.sqlite in
#      usr/share/rpm, also after a query; byte-identical db for the same packages in a
#      different argument order a second later; identical `ostree commit` checksums
#      for two such trees (if ostree is installed);
#   4. semantics against the v1 rpmdb (rpm -i --test --justdb): tp-lib+tp-tool+tp-app
#      install; tp-app alone misses tplib(abi) = 1 and /usr/bin/tp-tool; tp-conflict
#      conflicts with tp-base-core; tp-base-b 1.5-1 is older than the installed 2.0-1;
#   5. scriptlets for real (rpm -i in a make-tree.sh tree, chrooted /bin/sh): tp-app's
#      %pre/%post/%posttrans markers ($1 = 1), suid bit, file capability; tp-fail's
#      %post reports exit status 1 with its message on stderr;
#   6. mkrepo.sh: a repo of the layering packages (6 packages in primary.xml),
#      byte-identical when made again later with the arguments in another order;
#      an --xz repo and an empty repo; nothing on stdout.
# Prints "selfcheck: ..." progress lines and timings on stdout; exits non-zero with a
# message on stderr at the first failed check.
# Creates only a temp dir under ${TMPDIR:-/tmp} (private caches included) and removes
# it on exit; the shared cache under /var/tmp is not touched. ~5 s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
testbed=$(cd "$here/.." && pwd)
export LC_ALL=C TZ=UTC
SDE=1704067200

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rpms-selfcheck.XXXXXX")
cleanup() {
    local rc=$?
    rm -rf "$tmp"
    [ "$rc" -eq 0 ] || echo "selfcheck: FAILED" >&2
    exit "$rc"
}
trap cleanup EXIT

fail() { echo "selfcheck: $*" >&2; exit 1; }
say() { echo "selfcheck: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f s", b - a }'; }
# rpm prints the Debian "use Alien" warning on every install; drop it.
rpmq() {
    local rc=0
    rpm "$@" 2> "$tmp/rpmq.err" || rc=$?
    grep -v -e 'use Alien instead' -e 'assuming you know what' "$tmp/rpmq.err" >&2 || true
    return "$rc"
}
query() { rpm -qa --root "$1" --dbpath /usr/share/rpm \
    --qf '%{NAME}-%{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\n' | sort; }
same_dirs() { diff -r "$1" "$2" > /dev/null || fail "$3: $1 and $2 differ"; }

# ---------------------------------------------------------------- 1. build.sh
expected_rpms='tp-app-1.0-1.noarch.rpm
tp-base-a-1.0-1.noarch.rpm
tp-base-a-2.0-1.noarch.rpm
tp-base-b-1.5-1.noarch.rpm
tp-base-b-2.0-1.noarch.rpm
tp-base-core-1.0-1.noarch.rpm
tp-base-epoch-1.0-1.noarch.rpm
tp-base-gone-1.0-1.noarch.rpm
tp-base-new-1.0-1.noarch.rpm
tp-base-tilde-2.0-1.noarch.rpm
tp-base-tilde-2.0~rc1-1.noarch.rpm
tp-conflict-1.0-1.noarch.rpm
tp-escape-1.0-1.noarch.rpm
tp-fail-1.0-1.noarch.rpm
tp-lib-1.0-1.noarch.rpm
tp-needs-new-a-1.0-1.noarch.rpm
tp-scribble-1.0-1.noarch.rpm
tp-slow-1.0-1.noarch.rpm
tp-tool-1.0-1.noarch.rpm
tp-upgrade-1.0-1.noarch.rpm
tp-upgrade-2.0-1.noarch.rpm'

t=$(now)
TESTBED_RPMS_CACHE_ROOT=$tmp/cache1 "$here/build.sh" "$tmp/rpms" > "$tmp/out"
say "build.sh cold: $(elapsed "$t")"
[ ! -s "$tmp/out" ] || fail "build.sh printed on stdout: $(cat "$tmp/out")"
[ "$(ls "$tmp/rpms")" = "$expected_rpms" ] || fail "unexpected RPM set: $(ls "$tmp/rpms")"
[ "$(ls -d "$tmp"/cache1/rpmostree-testbed-rpms-* | grep -vc '\.lock$')" = 1 ] ||
    fail "expected one cache dir in $tmp/cache1"
t=$(now)
TESTBED_RPMS_CACHE_ROOT=$tmp/cache1 "$here/build.sh" "$tmp/rpms-warm" > "$tmp/out"
say "build.sh warm: $(elapsed "$t")"
[ ! -s "$tmp/out" ] || fail "build.sh (warm) printed on stdout"
same_dirs "$tmp/rpms" "$tmp/rpms-warm" "warm build"
t=$(now)
TESTBED_RPMS_CACHE_ROOT=$tmp/cache2 "$here/build.sh" "$tmp/rpms-c1" > "$tmp/out1" & p1=$!
TESTBED_RPMS_CACHE_ROOT=$tmp/cache2 "$here/build.sh" "$tmp/rpms-c2" > "$tmp/out2" & p2=$!
wait "$p1" || fail "concurrent build.sh 1 failed"
wait "$p2" || fail "concurrent build.sh 2 failed"
say "build.sh 2x concurrent cold: $(elapsed "$t")"
same_dirs "$tmp/rpms" "$tmp/rpms-c1" "rebuild (reproducibility)"
same_dirs "$tmp/rpms" "$tmp/rpms-c2" "concurrent rebuild"
[ -z "$(find "$tmp/cache1" "$tmp/cache2" -maxdepth 1 -name '*.tmp.*')" ] || fail "temp dirs left in cache"
R=$tmp/rpms

# ---------------------------------------------------------------- 2. headers
while IFS= read -r f; do
    line=$(rpm -qp --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm|%{SUMMARY}|%{LICENSE}' "$R/$f")
    [ "${line%%|*}" = "$f" ] || fail "$f: header says ${line%%|*}"
    case $line in *'|(none)|'*|*'||'*|*'|(none)'|*'|') fail "$f: no Summary/License: $line";; esac
done <<< "$expected_rpms"
[ "$(rpm -qp --qf '%{EPOCH}' "$R/tp-base-epoch-1.0-1.noarch.rpm")" = 1 ] || fail "tp-base-epoch: epoch is not 1"
rpm -qp --provides "$R/tp-base-core-1.0-1.noarch.rpm" | grep -qx '/bin/sh' || fail "tp-base-core does not provide /bin/sh"
rpm -qp --provides "$R/tp-lib-1.0-1.noarch.rpm" | grep -qx 'tplib(abi) = 1' || fail "tp-lib: no tplib(abi) = 1"
rpm -qpl "$R/tp-tool-1.0-1.noarch.rpm" | grep -qx /usr/bin/tp-tool || fail "tp-tool: no /usr/bin/tp-tool"
app=$R/tp-app-1.0-1.noarch.rpm
rpm -qp --requires "$app" > "$tmp/req"
grep -qx 'tplib(abi) = 1' "$tmp/req" && grep -qx /usr/bin/tp-tool "$tmp/req" || fail "tp-app requires: $(cat "$tmp/req")"
rpm -qp --qf '%{PREIN}\n--\n%{POSTIN}\n--\n%{POSTTRANS}\n' "$app" > "$tmp/scripts"
grep -q 'tp-app pre' "$tmp/scripts" && grep -q '/usr/share/tp-app/post-ran' "$tmp/scripts" &&
    grep -q posttrans-ran "$tmp/scripts" || fail "tp-app scriptlets: $(cat "$tmp/scripts")"
rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILECAPS}\n]' \
    "$app" > "$tmp/files"
for want in '/usr/bin/tp-suid -rwsr-xr-x root:root' \
            '/usr/bin/tp-ping -rwxr-xr-x root:root  cap_net_raw=ep' \
            '/etc/tp-app.conf -rw-r--r-- root:root cn' \
            '/var/lib/tp-app drwxr-x--- nobody:nogroup' \
            '/opt/tp-app/data -rw-r--r-- root:root'; do
    grep -qF -- "$want" "$tmp/files" || fail "tp-app: no file line '$want' in: $(cat "$tmp/files")"
done
rpm -qp --qf '%{POSTIN}' "$R/tp-fail-1.0-1.noarch.rpm" | grep -qx 'exit 1' || fail "tp-fail: %post does not exit 1"
rpm -qp --conflicts "$R/tp-conflict-1.0-1.noarch.rpm" | grep -qx tp-base-core || fail "tp-conflict: no Conflicts: tp-base-core"
[ "$(rpm --eval '%{lua: print(rpm.vercmp("2.0~rc1-1", "2.0-1"), rpm.vercmp("1.5-1", "2.0-1"), rpm.vercmp("1:1.0-1", "9.0-1"), rpm.vercmp("2.0-1", "1.0-1"))}')" = \
    "$(printf '%s\t%s\t%s\t%s' -1 -1 1 1)" ] || fail "unexpected rpm EVR order"
say "headers and EVR order OK"

# ---------------------------------------------------------------- 3. rpmdb.sh
expect_qa() {  # expect_qa VERSION: the rpm -qa lines for the pkglist.sh set
    local f
    for f in $("$here/pkglist.sh" "$1" "$R"); do
        rpm -qp --qf '%{NAME}-%{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\n' "$f"
    done | sort
}
for v in 1 2 3 other-1; do
    tree=$tmp/tree-$v
    mkdir "$tree"
    mapfile -t pkgs < <("$here/pkglist.sh" "$v" "$R")
    t=$(now)
    "$here/rpmdb.sh" "$tree" "${pkgs[@]}" > "$tmp/out" 2> "$tmp/err" || fail "rpmdb.sh $v: $(cat "$tmp/err")"
    say "rpmdb.sh tree $v (${#pkgs[@]} packages): $(elapsed "$t")"
    [ ! -s "$tmp/out" ] || fail "rpmdb.sh printed on stdout: $(cat "$tmp/out")"
    [ ! -s "$tmp/err" ] || fail "rpmdb.sh printed on stderr: $(cat "$tmp/err")"
    [ "$(readlink "$tree/usr/lib/sysimage/rpm")" = ../../share/rpm ] || fail "tree $v: bad sysimage symlink"
    [ "$(ls -A "$tree/usr/share/rpm")" = rpmdb.sqlite ] || fail "tree $v: stray files: $(ls -A "$tree/usr/share/rpm")"
    cp "$tree/usr/share/rpm/rpmdb.sqlite" "$tmp/before.sqlite"
    query "$tree" > "$tmp/qa"
    expect_qa "$v" > "$tmp/qa.expected"
    diff -u "$tmp/qa.expected" "$tmp/qa" >&2 || fail "tree $v: rpm -qa differs from pkglist.sh"
    [ "$(ls -A "$tree/usr/share/rpm")" = rpmdb.sqlite ] || fail "tree $v: a query left files: $(ls -A "$tree/usr/share/rpm")"
    cmp -s "$tmp/before.sqlite" "$tree/usr/share/rpm/rpmdb.sqlite" || fail "tree $v: a query changed the db"
    [ "$(sqlite3 "$tree/usr/share/rpm/rpmdb.sqlite" 'PRAGMA journal_mode;' 2>/dev/null || echo delete)" = delete ] ||
        fail "tree $v: db is not in journal_mode=delete"
    rpm -qa --root "$tree" --dbpath /usr/share/rpm --qf '%{INSTALLTID} %{INSTALLTIME}\n' |
        awk -v s="$SDE" -v n="${#pkgs[@]}" '$1 != s || $2 < s || $2 >= s + n { bad = 1 } END { exit bad }' ||
        fail "tree $v: install times not fixed"
    say "tree $v: $(tr '\n' ' ' < "$tmp/qa")"
done
cmp -s "$tmp/tree-1/usr/share/rpm/rpmdb.sqlite" "$tmp/tree-other-1/usr/share/rpm/rpmdb.sqlite" ||
    fail "v1 and other-1 rpmdbs differ"
for a in 1 2 3; do for b in 1 2 3; do
    [ "$a" -lt "$b" ] || continue
    ! cmp -s "$tmp/tree-$a/usr/share/rpm/rpmdb.sqlite" "$tmp/tree-$b/usr/share/rpm/rpmdb.sqlite" ||
        fail "trees $a and $b have the same rpmdb"
done; done
# Determinism: same packages, reversed argument order, a second later, another dir.
sleep 1
mkdir "$tmp/tree-1b"
mapfile -t pkgs < <("$here/pkglist.sh" 1 "$R" | sort -r)
(cd "$R" && "$here/rpmdb.sh" "$tmp/tree-1b" "${pkgs[@]##*/}")
cmp "$tmp/tree-1/usr/share/rpm/rpmdb.sqlite" "$tmp/tree-1b/usr/share/rpm/rpmdb.sqlite" >&2 ||
    fail "rpmdb.sh is not deterministic"
say "rpmdb.sh deterministic (cmp OK)"
if command -v ostree > /dev/null; then
    # Two repos, the same branch (the commit binds its ref name), as two worlds would.
    for x in 1 1b; do
        ostree init --repo="$tmp/ostree-$x" --mode=bare-user-only
        ostree commit --repo="$tmp/ostree-$x" --branch=testos/stable/x86_64 \
            --tree=dir="$tmp/tree-$x" --timestamp="2024-01-01 00:00:00 +0000" \
            --owner-uid=0 --owner-gid=0 --no-xattrs > "$tmp/csum-$x"
    done
    c1=$(cat "$tmp/csum-1") c2=$(cat "$tmp/csum-1b")
    [ "$c1" = "$c2" ] || fail "ostree commits of identical rpmdb trees differ: $c1 $c2"
    say "ostree commit checksums equal: $c1"
fi
# Adding to an existing db; a duplicate is an error and leaves no stray files.
"$here/rpmdb.sh" "$tmp/tree-1b" "$R/tp-lib-1.0-1.noarch.rpm"
query "$tmp/tree-1b" | grep -qx 'tp-lib-(none):1.0-1.noarch' || fail "rpmdb.sh did not add to an existing db"
if "$here/rpmdb.sh" "$tmp/tree-1b" "$R/tp-lib-1.0-1.noarch.rpm" 2> /dev/null; then
    fail "rpmdb.sh accepted an already installed package"
fi
[ "$(ls -A "$tmp/tree-1b/usr/share/rpm")" = rpmdb.sqlite ] || fail "failed rpmdb.sh left files behind"

# ---------------------------------------------------------------- 4. dependency semantics
scratch=$tmp/scratch
cp -a "$tmp/tree-1" "$scratch"
rtest() { rpmq --root "$scratch" --dbpath /usr/share/rpm -i --test --justdb \
    --nosignature --nodigest --ignoresize "$@"; }
rtest "$R"/tp-{lib,tool,app}-1.0-1.noarch.rpm 2> "$tmp/err" || fail "tp-app + deps not installable on v1: $(cat "$tmp/err")"
! rtest "$app" 2> "$tmp/err" || fail "tp-app installable without its dependencies"
grep -q 'tplib(abi) = 1 is needed by tp-app' "$tmp/err" && grep -q '/usr/bin/tp-tool is needed by tp-app' "$tmp/err" ||
    fail "tp-app: unexpected error: $(cat "$tmp/err")"
! rtest "$R/tp-conflict-1.0-1.noarch.rpm" 2> "$tmp/err" || fail "tp-conflict installable on v1"
grep -q 'tp-base-core conflicts with tp-conflict' "$tmp/err" || fail "tp-conflict: unexpected error: $(cat "$tmp/err")"
! rpmq --root "$scratch" --dbpath /usr/share/rpm -U --test --justdb --nosignature --nodigest --ignoresize \
    "$R/tp-base-b-1.5-1.noarch.rpm" 2> "$tmp/err" || fail "tp-base-b 1.5-1 not seen as older"
grep -q 'which is newer than tp-base-b-1.5-1' "$tmp/err" || fail "tp-base-b downgrade: $(cat "$tmp/err")"
say "dependency semantics OK"

# ---------------------------------------------------------------- 5. scriptlets for real
root=$tmp/root
"$testbed/make-tree.sh" "$root" 1 1
"$here/rpmdb.sh" "$root" $("$here/pkglist.sh" 1 "$R")
SOURCE_DATE_EPOCH=$SDE rpmq --root "$root" --dbpath /usr/share/rpm -i --nosignature --nodigest \
    --ignoresize "$R"/tp-{lib,tool,app}-1.0-1.noarch.rpm > "$tmp/out" 2> "$tmp/err" ||
    fail "installing tp-app for real failed: $(cat "$tmp/err")"
grep -qx 'tp-app pre: 1' "$tmp/out" || fail "tp-app %pre output: $(cat "$tmp/out")"
[ "$(cat "$root/usr/share/tp-app/post-ran")" = 1 ] || fail "tp-app %post marker wrong"
[ "$(cat "$root/usr/share/tp-app/posttrans-ran")" = posttrans ] || fail "tp-app %posttrans marker wrong"
[ "$(stat -c %a "$root/usr/bin/tp-suid")" = 4755 ] || fail "tp-suid is not 4755"
if command -v getcap > /dev/null; then
    getcap "$root/usr/bin/tp-ping" | grep -q 'cap_net_raw=ep' || fail "tp-ping has no cap_net_raw"
fi
SOURCE_DATE_EPOCH=$SDE rpmq --root "$root" --dbpath /usr/share/rpm -i --nosignature --nodigest \
    --ignoresize "$R/tp-fail-1.0-1.noarch.rpm" > /dev/null 2> "$tmp/err" || true
grep -q 'tp-fail: %post failing on purpose' "$tmp/err" && grep -q 'scriptlet failed, exit status 1' "$tmp/err" ||
    fail "tp-fail %post: $(cat "$tmp/err")"
say "scriptlets OK (tp-app markers, suid, caps; tp-fail %post exits 1)"

# ---------------------------------------------------------------- 6. mkrepo.sh
layer=(tp-lib-1.0-1 tp-tool-1.0-1 tp-app-1.0-1 tp-fail-1.0-1 tp-conflict-1.0-1 tp-upgrade-1.0-1)
args=()
for p in "${layer[@]}"; do args+=("$R/$p.noarch.rpm"); done
t=$(now)
"$here/mkrepo.sh" "$tmp/repo1" "${args[@]}" > "$tmp/out"
say "mkrepo.sh (${#layer[@]} packages): $(elapsed "$t")"
[ ! -s "$tmp/out" ] || fail "mkrepo.sh printed on stdout"
[ -f "$tmp/repo1/repodata/repomd.xml" ] || fail "no repomd.xml"
primary=$(ls "$tmp"/repo1/repodata/*-primary.xml.gz)
zcat "$primary" | grep -q 'packages="6"' || fail "primary.xml does not list 6 packages"
for p in tp-lib tp-tool tp-app tp-fail tp-conflict tp-upgrade; do
    zcat "$primary" | grep -q "<name>$p</name>" || fail "primary.xml lacks $p"
done
zcat "$primary" | grep -q 'rpm:entry name="tplib(abi)" flags="EQ" epoch="0" ver="1"' || fail "primary.xml: tp-app requires missing"
sleep 1
reversed=()
for ((i = ${#args[@]} - 1; i >= 0; i--)); do reversed+=("${args[i]}"); done
"$here/mkrepo.sh" "$tmp/repo2" "${reversed[@]}"
same_dirs "$tmp/repo1" "$tmp/repo2" "mkrepo.sh determinism"
[ "$(stat -c %Y "$tmp/repo1/repodata/repomd.xml")" = "$SDE" ] || fail "repomd.xml mtime not fixed"
"$here/mkrepo.sh" "$tmp/repo2" "$R/tp-upgrade-2.0-1.noarch.rpm"
zcat "$tmp"/repo2/repodata/*-primary.xml.gz | grep -q 'packages="7"' || fail "adding to a repo failed"
"$here/mkrepo.sh" --xz "$tmp/repo-xz1" "${args[@]}"
"$here/mkrepo.sh" --xz "$tmp/repo-xz2" "${args[@]}"
same_dirs "$tmp/repo-xz1" "$tmp/repo-xz2" "mkrepo.sh --xz determinism"
ls "$tmp"/repo-xz1/repodata/*-primary.xml.xz > /dev/null || fail "--xz made no .xz primary"
"$here/mkrepo.sh" "$tmp/repo-empty"
zcat "$tmp"/repo-empty/repodata/*-primary.xml.gz | grep -q 'packages="0"' || fail "empty repo"
say "mkrepo.sh deterministic (diff -r OK)"

say OK
