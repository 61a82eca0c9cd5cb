# bench-pkgdiff.sh: item 7 of build-aux/bench.sh (sourced by it, after item 6; uses
# its A, top, in_a, run_in, read_mem, median, fail, say, HELPER, RPMOSTREE, py).
#
#   7. Package diffs of two commits of 2,000 packages each (one tree's rpm database
#      against the other's: 900 upgraded, 50 downgraded, 50 removed, 50 added; each
#      package with 20 files and a changelog entry). The RPMs are written by
#      genpkgs (crates/genpkgs, beside BIN) and recorded with rpm --justdb; the two
#      trees are committed to world A's repository.
#      `rpm-ostree db diff A B` vs reading both package lists with
#      `rpm --root CHECKOUT -qa` on checkouts of the two trees (made beforehand,
#      untimed), interleaved; then OS.GetCachedDeployRpmDiff(revision=B) through
#      the daemon (booted v1, a few packages, against B), and the daemon's RssAnon
#      after those calls.
# Files live under $top/pkgdiff (host /tmp is /tmp in the namespace), removed with $top.

PKGDIFF_ROUNDS=15
PKGDIFF_CALLS=10

pkgdiff_bench() {
    local gen=${bin%/*}/genpkgs d=$top/pkgdiff
    [ -x "$gen" ] || fail "$gen is missing: build it with 'cargo build --release -p genpkgs'"
    command -v rpm >/dev/null || fail "rpm is missing: run build-aux/install-deps.sh"
    say "7. package diff: 2 x 2,000 generated RPMs, recorded in two rpm databases"
    mkdir -p "$d"
    "$gen" "$d/rpms-a" bp 0 2000 1.0
    mkdir -p "$d/rpms-b"
    "$gen" "$d/rpms-b" bp 1000 900 2.0
    "$gen" "$d/rpms-b" bp 1900 50 0.9
    "$gen" "$d/rpms-b" bn 0 50 1.0
    for n in $(seq -f %04g 0 999); do ln "$d/rpms-a/bp-$n-1.0-1.noarch.rpm" "$d/rpms-b/"; done
    local t c
    for t in a b; do
        rpm --root "$d/tree-$t" --dbpath /usr/share/rpm --justdb --nodeps --noscripts --nodigest \
            --nosignature --ignoresize -i "$d/rpms-$t"/*.rpm 2>/dev/null
        rm -f "$d/tree-$t/usr/share/rpm/.rpm.lock"
        c=$(ostree commit --repo="$A/sysroot/ostree/repo" --branch="bench/pkgdiff-$t" \
            --tree=dir="$d/tree-$t" --owner-uid=0 --owner-gid=0 --no-xattrs)
        printf -v "pkgdiff_$t" %s "$c"
        ostree checkout --repo="$A/sysroot/ostree/repo" -U "$c" "$d/co-$t"
    done
    # shellcheck disable=SC2154 # pkgdiff_a and pkgdiff_b are set by printf -v above
    local lines
    lines=$(in_a "$RPMOSTREE" db diff "$pkgdiff_a" "$pkgdiff_b" | grep -c '^  ') ||
        fail "rpm-ostree db diff failed"
    [ "$lines" = 1050 ] || fail "db diff listed $lines changes, not 1050"
    say "7. package diff: $PKGDIFF_ROUNDS interleaved rounds"
    local out name m hi r
    out=$(in_a "$py" "$HELPER" times "$PKGDIFF_ROUNDS" 2 \
        dbdiff "$RPMOSTREE" db diff "$pkgdiff_a" "$pkgdiff_b" --- \
        rpmqa sh -c "rpm --root $d/co-a --dbpath /usr/share/rpm -qa >/dev/null &&
                     rpm --root $d/co-b --dbpath /usr/share/rpm -qa >/dev/null")
    declare -gA pd_med pd_rss
    while read -r name m _ hi r; do pd_med[$name]=$m pd_rss[$name]=$r; done <<< "$out"
    local times=() i

    for i in $(seq "$PKGDIFF_CALLS"); do
        times+=("$(run_in "$A" getdiff busctl --address=unix:path=/run/dbus/system_bus_socket \
            call org.projectatomic.rpmostree1 "/org/projectatomic/rpmostree1/$OSNAME" \
            org.projectatomic.rpmostree1.OS GetCachedDeployRpmDiff sas "revision=$pkgdiff_b" 0)")
    done
    pd_med[getdiff]=$(median "${times[@]}")
    read_mem m4
}

pkgdiff_report() {
    row "7. db diff 2x2,000 pkgs | rpm -qa x2" "${pd_med[dbdiff]} ms" "${pd_med[rpmqa]} ms" \
        "$(ratio "${pd_med[dbdiff]}" "${pd_med[rpmqa]}")" "< 100 ms ($(verdict "${pd_med[dbdiff]}" 100 '<'))"
    row "   max RSS of the command" "$(mib "${pd_rss[dbdiff]}")" "$(mib "${pd_rss[rpmqa]}")" "" ""
    row "   GetCachedDeployRpmDiff (booted | 2,000)" "${pd_med[getdiff]} ms" "-" "" ""
    row "   RssAnon / Pss / threads after item 7" "$(mib "$m4_anon") / $(mib "$m4_pss") / $m4_threads" "" "" "$(anon_goal "$m4_anon")"
}
