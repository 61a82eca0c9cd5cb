# bench-image.sh: item 10 of build-aux/bench.sh (sourced by it, after item 9; uses
# its A, bin, top, py, in_a, run_in, reset_world, read_mem, kib, median, ratio, list,
# row, mib, verdict, anon_goal, fail, say, env_of, RPMOSTREE, CSUM_V1, CSUM_V2, nobj).
#
#  10. Container images: the same v1 -> v2 upgrade of the 5,000-file tree on world A,
#      from an image and from the ostree remote, rotating, each run from the same state:
#      booted v1 (remote origin), v2 not in the repository, and a staged deployment of
#      v1 made untimed first (for the image: `rpm-ostree rebase --skip-purge` to the
#      image of v1, so that the remote's ref stays; for the remote: `rpm-ostree
#      deploy revision=<v1>`, which the upgrade unpins), so that both upgrades
#      replace a staged deployment of v1.
#      I: the images of v1 and v2 are `rpm-ostree compose container-encapsulate` of
#         the worlds' commits (chunked by package) into two `oci:` layouts; the
#         origin names a third path, a symlink moved from v1's layout to v2's (the
#         tag "moves"); timed: `rpm-ostree upgrade` (the container helper imports
#         the layers v1 lacks: skopeo reads them, ostree-ext writes the new
#         objects, the daemon stages the result).
#      R: timed `rpm-ostree upgrade` from the remote (a pull of the changed objects).
#      The container helper's peak RSS (its log line: skopeo, its child, is not
#      counted) and the daemon's RssAnon after.
# Files live under $top/image, removed with $top.

IMAGE_RUNS=5

image_reset() {  # back to: booted v1 alone, v2 and every image out of the repository
    in_a sh -c 'rm -f /run/ostree/staged-deployment && ostree admin cleanup >/dev/null &&
        for r in $(ostree refs --repo=/ostree/repo ostree/container); do
            ostree refs --repo=/ostree/repo --delete "ostree/container/$r"; done' >/dev/null
    reset_world "$A"
    # Item 9 may leave objects behind; item 10's runs each start from its first state.
    im_base=${im_base:-$(nobj "$A")}
    [ "$(nobj "$A")" = "$im_base" ] ||
        fail "item 10 does not start from the same state ($(nobj "$A") objects, not $im_base)"
}

image_staged_is() {  # WHAT (digest or checksum) KEY: the staged deployment has KEY=WHAT
    in_a "$RPMOSTREE" status --json | "$py" -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
sys.exit(0 if d.get("staged") and d.get(sys.argv[2]) == sys.argv[1] else 1)' "$1" "$2"
}

image_bench() {
    local d=$top/image remote v i order
    say "10. container images: v1 and v2 encapsulated, $IMAGE_RUNS runs per variant, rotating"
    mkdir -p "$d"
    remote=$(env_of "$A" REMOTE)
    "$bin" compose container-encapsulate --repo="$remote" "$CSUM_V1" "oci:$d/v1:stable" >/dev/null
    "$bin" compose container-encapsulate --repo="$remote" "$CSUM_V2" "oci:$d/v2:stable" >/dev/null
    local img="ostree-unverified-image:oci:$d/cur:stable" digest_v2
    digest_v2=$("$py" -c '
import json, sys
print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$d/v2/index.json")
    image_reset
    im_i=() im_r=() im_peak=()
    for i in $(seq "$IMAGE_RUNS"); do
        if [ $((i % 2)) = 1 ]; then order=(I R); else order=(R I); fi
        for v in "${order[@]}"; do
            if [ "$v" = I ]; then
                ln -sfn "$d/v1" "$d/cur"
                in_a "$RPMOSTREE" rebase --skip-purge "$img" >/dev/null || fail "rpm-ostree rebase to the image of v1 failed"
                ln -sfn "$d/v2" "$d/cur"
                t=$(run_in "$A" upgrade "$RPMOSTREE" upgrade) || fail "rpm-ostree upgrade of the image failed"
                image_staged_is "$digest_v2" container-image-reference-digest ||
                    fail "no staged deployment of the image of v2 after the upgrade"
                im_i+=("$t")
                im_peak+=("$(grep 'rpm-ostreed-container: import in' "$top/daemon.log" | tail -n 1 |
                    sed 's/.*peak RSS \([0-9]*\) KiB.*/\1/')")
            else
                in_a "$RPMOSTREE" deploy "revision=$CSUM_V1" >/dev/null || fail "cannot stage v1 in world A"
                t=$(run_in "$A" upgrade "$RPMOSTREE" upgrade) || fail "rpm-ostree upgrade from the remote failed"
                image_staged_is "$CSUM_V2" checksum || fail "no staged deployment of v2 after the upgrade"
                im_r+=("$t")
            fi
            image_reset
        done
    done
    read_mem m9
}

image_report() {
    local a b
    a=$(median "${im_i[@]}") b=$(median "${im_r[@]}")
    im_ratio=$(ratio "$a" "$b")
    row "10. upgrade v1->v2 from an image | a remote" "$a ms" "$b ms" "$im_ratio" \
        "<= 1.5 ($(verdict "$im_ratio" 1.5 '<='))"
    echo "   runs (ms): image $(list "${im_i[@]}"); remote $(list "${im_r[@]}")"
    im_helper=$(median "${im_peak[@]}")
    row "   container helper peak RSS (not skopeo)" "$(mib "$im_helper")" "" "" ""
    row "   daemon RssAnon after the image upgrades" "$(mib "$m9_anon")" "" "" "$(anon_goal "$m9_anon")"
}
