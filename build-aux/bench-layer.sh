# bench-layer.sh: item 9 of build-aux/bench.sh (sourced by it, after item 8; uses
# its A, B, top, tbin, py, pids, in_a, in_b, run_in, serve_http, reset_world, settle, read_mem,
# median, fail, say, dpid, RPMOSTREE, OSNAME, CSUM_V1, CSUM_V2).
#
#   9. Package layering on world A (booted v1, 5,000-file trees), from a repository
#      of the test bed's RPMs served over HTTP (item 8's 70,000-package repository
#      is disabled first):
#      a. `rpm-ostree install tp-tool` (one small package) with a warm metadata
#         cache (refresh-md beforehand) and an empty pkgcache: depsolve, download,
#         import, assembly, rpmdb, commit, staged deployment, prune; the rpm-md
#         helper's peak RSS (its log line) and the daemon's peak RSS (VmHWM, reset
#         through /proc/PID/clear_refs before each run) and RssAnon after. Against
#         the floor, in world B on the same tree in the same run: `ostree checkout
#         -H` of v1, `rpm2cpio | cpio` of the same RPM into it, `ostree commit
#         --link-checkout-speedup` of the result (and the checkout removed).
#         Then `rpm-ostree override remove tp-base-b` (one base package out: the
#         same depsolve, rpmdb and commit, no import), against the install.
#      b. `rpm-ostree upgrade` v1 -> v2 of world A with a layered deployment pending
#         (v1 + tp-tool, its package cached), against the same upgrade without
#         the layer, rotating; each run from the same state (reset with the ostree
#         CLI, the pending layered deployment made again untimed).
# Files live under $top/layer (host /tmp is /tmp in both namespaces), removed with
# $top; the server is in $pids.

LAYER_RUNS=5

layer_reset() {  # back to: booted v1 alone, v2 not in the repo, no pkgcache
    in_a sh -c 'ostree refs --repo=/ostree/repo --delete rpmostree/pkg &&
        ostree refs --repo=/ostree/repo --delete rpmostree/base' >/dev/null
    reset_world "$A"
    ! in_a ostree show --repo=/ostree/repo "$CSUM_V2" >/dev/null 2>&1 || fail "v2 still in world A's repo"
}

layer_install() {  # -> sets t (ms); the install must leave tp-tool layered, staged
    t=$(run_in "$A" install "$RPMOSTREE" install tp-tool) || fail "rpm-ostree install tp-tool failed"
    in_a "$RPMOSTREE" status --json | "$py" -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
sys.exit(0 if d.get("packages") == ["tp-tool"] and d.get("staged") else 1)' ||
        fail "no staged deployment with tp-tool after the install"
}

layer_bench() {
    local d=$top/layer root i
    say "9. layering: the test bed's RPMs served over HTTP, metadata warmed"
    mkdir -p "$d"
    "$tbin/rpms/build.sh" "$d/rpms"
    "$tbin/rpms/mkrepo.sh" "$d/repo" "$d"/rpms/tp-{app,lib,tool}-1.0-1.noarch.rpm
    serve_http "$d/repo" "$d/server"
    root=$(find "$A/sysroot/ostree/deploy/$OSNAME/deploy" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    rm -f "$root/etc/yum.repos.d/bench.repo"
    printf '[layer]\nname=Layer\nbaseurl=http://127.0.0.1:%s/\ngpgcheck=0\n' "$port" \
        >"$root/etc/yum.repos.d/layer.repo"
    layer_reset
    run_in "$A" refresh "$RPMOSTREE" refresh-md >/dev/null || fail "refresh-md failed"

    say "9a. install of one small package: $LAYER_RUNS runs, and the by-hand floor in world B"
    local rpm=$d/rpms/tp-tool-1.0-1.noarch.rpm floor
    floor="set -e; ostree checkout --repo=/ostree/repo -H $CSUM_V1 /ostree/repo/tmp/floor
        cd /ostree/repo/tmp/floor && rpm2cpio $rpm | cpio -idmu --quiet
        ostree commit --repo=/ostree/repo --link-checkout-speedup -b bench/floor --tree=dir=. >/dev/null
        cd / && rm -rf /ostree/repo/tmp/floor"
    li_a=() li_b=() li_peak=() li_helper=()
    for i in $(seq "$LAYER_RUNS"); do
        echo 5 >"/proc/$dpid/clear_refs"
        layer_install
        li_a+=("$t")
        li_peak+=("$(kib "/proc/$dpid/status" VmHWM)")
        li_helper+=("$(grep 'rpm-ostreed-dnf: Resolve in' "$top/daemon.log" | tail -n 1 |
            sed 's/.*peak RSS \([0-9]*\) KiB.*/\1/')")
        layer_reset
        li_b+=("$(run_in "$B" floor sh -c "$floor")")
        in_b sh -c 'ostree refs --repo=/ostree/repo --delete bench/floor && ostree prune --repo=/ostree/repo --refs-only' >/dev/null
    done
    say "9a. override remove of one base package (tp-base-b): $LAYER_RUNS runs"
    lr_a=()
    for i in $(seq "$LAYER_RUNS"); do
        t=$(run_in "$A" override "$RPMOSTREE" override remove tp-base-b) ||
            fail "rpm-ostree override remove tp-base-b failed"
        in_a "$RPMOSTREE" status --json | "$py" -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
sys.exit(0 if d.get("requested-base-removals") == ["tp-base-b"] and d.get("staged") else 1)' ||
            fail "no staged deployment without tp-base-b after the override"
        lr_a+=("$t")
        layer_reset
    done
    read_mem m7

    say "9b. upgrade v1 -> v2 with and without a layered package: $LAYER_RUNS runs each, rotating"
    lu_l=() lu_u=()
    local v order
    for i in $(seq "$LAYER_RUNS"); do
        if [ $((i % 2)) = 1 ]; then order=(L U); else order=(U L); fi
        for v in "${order[@]}"; do
            [ "$v" = L ] && layer_install
            t=$(run_in "$A" upgrade "$RPMOSTREE" upgrade) || fail "rpm-ostree upgrade ($v) failed"
            in_a ostree admin status | grep "^  $OSNAME [0-9a-f]*\.[0-9]* (staged)" >/dev/null ||
                fail "no staged deployment after the upgrade ($v)"
            if [ "$v" = L ]; then
                in_a "$RPMOSTREE" status --json | "$py" -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
sys.exit(0 if d.get("packages") == ["tp-tool"] and d.get("base-checksum") == sys.argv[1] else 1)' "$CSUM_V2" ||
                    fail "the layered upgrade did not keep tp-tool on v2"
                lu_l+=("$t")
            else
                lu_u+=("$t")
            fi
            layer_reset
        done
    done
    read_mem m8
}

layer_report() {
    local ia ib
    ia=$(median "${li_a[@]}") ib=$(median "${li_b[@]}")
    ly_install=$ia
    ly_ratio=$(ratio "$(median "${lu_l[@]}")" "$(median "${lu_u[@]}")")
    row "9. install tp-tool | checkout+rpm2cpio+commit" "$ia ms" "$ib ms" "$(ratio "$ia" "$ib")" \
        "<= 300 ms, upstream ($(verdict "$ia" 300 '<='))"
    echo "   runs (ms): this project $(list "${li_a[@]}"); by hand $(list "${li_b[@]}")"
    row "   peak RSS: rpm-md helper / daemon (VmHWM)" "$(mib "$(median "${li_helper[@]}")") / $(mib "$(median "${li_peak[@]}")")" "" "" ""
    row "   override remove tp-base-b | the install" "$(median "${lr_a[@]}") ms" "$ia ms" "$(ratio "$(median "${lr_a[@]}")" "$ia")" "about 1"
    echo "   runs (ms): override remove $(list "${lr_a[@]}")"
    row "   daemon RssAnon after the installs" "$(mib "$m7_anon")" "" "" "$(anon_goal "$m7_anon")"
    row "   upgrade v1->v2 layered | not layered" "$(median "${lu_l[@]}") ms" "$(median "${lu_u[@]}") ms" "$ly_ratio" \
        "<= 1.3 ($(verdict "$ly_ratio" 1.3 '<='))"
    echo "   runs (ms): layered $(list "${lu_l[@]}"); not layered $(list "${lu_u[@]}")"
    row "   daemon RssAnon after the upgrades" "$(mib "$m8_anon")" "" "" "$(anon_goal "$m8_anon")"
}
