#!/bin/bash
# bench.sh BIN: this project against the raw libostree CLI, in one run, on one test bed.
#
# Builds two identical test-bed worlds (make-world.sh --files 5000 is deterministic:
# same commits, same checksums, checked), each booted in its own PID + mount namespace:
#   world A: a private system bus (dbus-daemon, the project's bus policy) and the
#            daemon (BIN start-daemon) inside the namespace; the CLI talks to it;
#   world B: the libostree CLI alone (`ostree admin ...`), no bus, no daemon.
# No polkitd: every caller is root, and root needs no polkit.
# Commands are spawned directly inside the booted namespace by build-aux/bench-helper.py
# (fork + exec + wait, no nsenter/chroot in the timings); item 1 is also measured
# through tests/testbed/ns-exec.sh, with its empty-command baseline. Medians.
#   1. `rpm-ostree status --json` vs `ostree admin status` (world A, same sysroot),
#      interleaved, with `--version` of both (process start-up) for reference;
#   2. start to name owned: `rpm-ostree start-daemon` spawned -> NameOwnerChanged seen
#      on the bus, and the daemon's own "Acquired ... in N ms";
#   3. Properties.GetAll(Sysroot) per call, a few hundred calls on one connection, with
#      Peer.Ping (the bus round-trip floor), GetAll(OS), Reload and a new connection;
#   4. the daemon's memory (RssAnon, Pss; VmRSS, RssFile for reference) after those
#      calls and the status runs, the max RSS of `ostree admin status` for scale; again
#      after 5 and 6;
#   5. v1 -> v2 upgrade of a 5,000-file tree, staged: `rpm-ostree upgrade` (A) vs
#      `ostree admin upgrade --stage` (B), and vs the same followed by
#      `ostree admin cleanup` (B; the daemon prunes after staging, as upstream does);
#      rotating order, each run from the same starting state (reset between runs with
#      the ostree CLI and checked: the object count of the fresh world, v2 absent;
#      after each run: v2 staged and the same number of objects pulled);
#   6. Cleanup: `rpm-ostree cleanup -b` (A) vs `ostree admin cleanup` (B) pruning the
#      objects of a pulled-then-unreferenced v2; and removing a rollback deployment,
#      `rpm-ostree cleanup -r` (A) vs `ostree admin undeploy 1` (B) (a failure of the
#      former is reported in the table, not fatal).
#   7. `rpm-ostree db diff` of two 2,000-package commits vs `rpm -qa` of both on
#      checkouts, OS.GetCachedDeployRpmDiff through the daemon, and the daemon's
#      RssAnon afterwards (build-aux/bench-pkgdiff.sh; needs genpkgs beside BIN).
#   8. rpm-md on a generated 70,000-package repository: refresh-md cold, warm search
#      and WhatProvides, the rpm-md helper's peak RSS, the daemon's RssAnon before and
#      after (build-aux/bench-rpmmd.sh).
#   9. Package layering: install of one small package with warm metadata against
#      the same install by hand (ostree checkout + rpm2cpio + ostree commit, in
#      world B), peak memory of the rpm-md helper and the daemon; override remove
#      of one base package against that install; an upgrade of a
#      layered system against the same upgrade without the layer
#      (build-aux/bench-layer.sh).
#  10. Container images: a v1 -> v2 upgrade from an image against the same upgrade
#      from the ostree remote, the container helper's peak RSS, the daemon's RssAnon
#      (build-aux/bench-image.sh).
# If the daemon dies during a timed transaction (items 5-6), the crash is counted and
# reported (WARNING line, SUMMARY), the daemon restarted, the world reset and the run
# redone; more than 5 crashes abort the benchmark.
# Prints a table and a final SUMMARY line. Installs nothing: it needs what
# build-aux/install-deps.sh installs (ostree, dbus-daemon, python3-gi, util-linux).
# Everything it creates (processes, mounts, /tmp/rpm-ostree-bench.*) is removed at the
# end, also on failure or Ctrl-C (BENCH_DAEMON_LOG=FILE keeps a copy of the daemon's
# log). About 90 s on 2 cores.
set -euo pipefail
shopt -s inherit_errexit
bin=$(readlink -f "${1:?usage: bench.sh PATH-TO-rpm-ostree}")
[ -x "$bin" ] || { echo "bench.sh: $bin is not an executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (it mounts and enters namespaces)" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
tbin=$src/tests/testbed
py=/usr/bin/python3
for tool in ostree dbus-daemon busctl unshare nsenter "$py"; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "bench.sh: $tool is missing: run build-aux/install-deps.sh" >&2; exit 2; }
done
"$py" -c 'import gi; gi.require_version("Gio", "2.0")' 2>/dev/null ||
    { echo "bench.sh: python3-gi is missing: run build-aux/install-deps.sh" >&2; exit 2; }

NFILES=5000      # files per tree
STATUS_ROUNDS=60 # item 1, spawned inside the namespace (interleaved)
NSEXEC_ROUNDS=25 # item 1, through ns-exec.sh
START_ROUNDS=15  # item 2
CALLS=500        # item 3
RUNS=7           # items 5 and 6, per variant (+1 untimed warm-up each for item 5)

top=$(mktemp -d /tmp/rpm-ostree-bench.XXXXXX)
chmod 0755 "$top"
A=$top/a B=$top/b
mkdir "$A" "$B"
pids=()

cleanup() {
    local rc=$?
    set +e
    trap - ERR
    trap '' INT TERM
    if [ "$rc" != 0 ] && [ "$rc" != 130 ] && [ "$rc" != 143 ]; then
        for f in "$top/cmd.log" "$top/daemon.log"; do
            [ -s "$f" ] && { echo "--- last lines of $f:"; tail -n 15 "$f"; } >&2
        done
    fi
    [ -f "$top/daemon.pid" ] && kill "$(cat "$top/daemon.pid")" 2>/dev/null
    [ -z "${BENCH_DAEMON_LOG:-}" ] || cp "$top/daemon.log" "$BENCH_DAEMON_LOG"
    # A namespace's init exits on SIGTERM and takes everything inside with it.
    for w in "$A" "$B"; do
        [ -f "$w/ns/pid" ] && kill "$(cat "$w/ns/pid")" 2>/dev/null
    done
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    "$tbin/teardown.sh" "$A"
    "$tbin/teardown.sh" "$B"
    rm -rf "$top"
    [ ! -e "$top" ] || echo "bench.sh: could not remove $top" >&2
    exit "$rc"
}
trap cleanup EXIT
set -E
trap 'echo "bench.sh: line $LINENO: \"$BASH_COMMAND\" failed (status $?)" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '... %s\n' "$*" >&2; }
fail() { echo "bench.sh: $*" >&2; exit 1; }
serve_http() {  # DIR STATE [httpd.py OPTION...]: serves DIR on 127.0.0.1 (in $pids), sets port
    local dir=$1 state=$2 i
    shift 2
    "$py" "$tbin/httpd.py" "$dir" "$@" >"$state.port" 2>"$state.httpd.log" &
    pids+=($!)
    port=
    for i in $(seq 100); do
        port=$(head -n 1 "$state.port")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    fail "the HTTP server for $dir did not start"
}
t0=$(date +%s%N)

# ---------------------------------------------------------------- the test bed
say "building two identical worlds ($NFILES files per tree) under $top"
"$tbin/make-world.sh" "$A" --files "$NFILES" 2>"$top/world-a.log" & pids+=($!); wa=$!
"$tbin/make-world.sh" "$B" --files "$NFILES" 2>"$top/world-b.log" & pids+=($!); wb=$!
wait "$wa" || { cat "$top/world-a.log" >&2; fail "make-world.sh failed for world A"; }
wait "$wb" || { cat "$top/world-b.log" >&2; fail "make-world.sh failed for world B"; }
env_of() { sed -n "s/^$2=//p" "$1/world.env"; }
for k in CSUM_V1 CSUM_V2; do
    [ "$(env_of "$A" $k)" = "$(env_of "$B" $k)" ] || fail "the two worlds differ ($k)"
done
CSUM_V1=$(env_of "$A" CSUM_V1) CSUM_V2=$(env_of "$A" CSUM_V2)
REF=$(env_of "$A" REF) REMOTE_NAME=$(env_of "$A" REMOTE_NAME) OSNAME=$(env_of "$A" OSNAME)

say "private system bus for world A (the project's bus policy)"
mkdir "$A/policy"
cp "$src/data/org.projectatomic.rpmostree1.conf" "$A/policy/"
"$tbin/bus-config.sh" "$A" "$A/policy" >/dev/null
exec 3< <(exec dbus-daemon --config-file="$A/bus/system.conf" --nofork --nopidfile --nosyslog --print-address=1 2>/dev/null)
pids+=($!)
read -r address <&3
host_bus=${address%%,*}
ns_bus=unix:path=/run/dbus/system_bus_socket

say "booting both worlds in their own PID + mount namespaces"
for w in "$A" "$B"; do
    mkdir -p "$w/ns" "$w/run"
    unshare --mount --pid --fork --kill-child --propagation private -- \
        "$tbin/booted-init.sh" "$w/ns" "$w/sysroot" "$w/run" \
        --bind "$(dirname "$bin"):/srv" --bind "$src/build-aux:/mnt" 2>"$w/ns.log" &
    pids+=($!)
done
for w in "$A" "$B"; do
    for _ in $(seq 200); do [ -f "$w/ns/ready" ] && break; sleep 0.05; done
    [ -f "$w/ns/ready" ] || { cat "$w/ns.log" >&2; fail "the namespace of $w did not come up"; }
done
RPMOSTREE=/srv/$(basename "$bin")
HELPER=/mnt/bench-helper.py
in_a() {
    DBUS_SYSTEM_BUS_ADDRESS=$ns_bus RPMOSTREE_DEBUG_DISABLE_DAEMON_IDLE_EXIT=1 \
        "$tbin/ns-exec.sh" "$A/ns" -- "$@"
}
in_b() { "$tbin/ns-exec.sh" "$B/ns" -- "$@"; }
in_w() { if [ "$1" = "$A" ]; then shift; in_a "$@"; else shift; in_b "$@"; fi; }
for w in "$A" "$B"; do
    in_w "$w" ostree admin status | grep "^\* $OSNAME $CSUM_V1" >/dev/null || fail "$w is not booted into v1"
done

# ---------------------------------------------------------------- 2. start to name owned
say "2. start to name owned ($START_ROUNDS daemon starts)"
out=$(in_a "$py" "$HELPER" start "$START_ROUNDS" "$RPMOSTREE" start-daemon)
read -r _ start_ext start_ext_min start_int start_int_min <<< "$out"

start_daemon() {  # in world A's namespace; sets dpid (its host pid)
    rm -f "$top/daemon.pid"
    DBUS_SYSTEM_BUS_ADDRESS=$ns_bus RPMOSTREE_DEBUG_DISABLE_DAEMON_IDLE_EXIT=1 \
        "$tbin/ns-exec.sh" "$A/ns" --pidfile "$top/daemon.pid" -- "$RPMOSTREE" start-daemon \
        </dev/null >>"$top/daemon.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 250); do
        busctl --address="$host_bus" status org.projectatomic.rpmostree1 >/dev/null 2>&1 && break
        sleep 0.02
    done
    busctl --address="$host_bus" status org.projectatomic.rpmostree1 >/dev/null 2>&1 ||
        fail "the daemon did not take its name"
    dpid=$(cat "$top/daemon.pid")
}
alive() { kill -0 "$dpid" 2>/dev/null || fail "the daemon (pid $dpid) died: see the end of its log below"; }
# A daemon that dies during a timed transaction is a bug to report, not a reason to
# lose the run: it is counted, its last words kept, it is restarted, and the run redone.
crashes=0 crash_msg=
crashed() {  # -> 0 (and a fresh daemon) if the daemon had died
    ! kill -0 "$dpid" 2>/dev/null || return 1
    crashes=$((crashes + 1))
    [ "$crashes" -le 5 ] || fail "the daemon died $crashes times"
    [ -n "$crash_msg" ] || crash_msg=$(grep -A1 -m1 "panicked at" "$top/daemon.log" | tail -n 1)
    [ -n "$crash_msg" ] || crash_msg=$(tail -n 1 "$top/daemon.log")
    say "the daemon (pid $dpid) died (crash $crashes: $crash_msg); restarting it and redoing the run"
    echo "=== crash $crashes of pid $dpid" >> "$top/daemon.log"
    start_daemon
}
say "starting the daemon for the rest of the run"
start_daemon

# ---------------------------------------------------------------- 1. status
say "1. status: $STATUS_ROUNDS interleaved rounds spawned inside the namespace"
declare -A med p90 rss
out=$(in_a "$py" "$HELPER" times "$STATUS_ROUNDS" 5 \
    true /usr/bin/true --- \
    ostree_v ostree --version --- \
    rpmostree_v "$RPMOSTREE" --version --- \
    ostree ostree admin status --- \
    rpmostree "$RPMOSTREE" status --json)
while read -r name m _ hi r; do med[$name]=$m p90[$name]=$hi rss[$name]=$r; done <<< "$out"
say "1. status: $NSEXEC_ROUNDS interleaved rounds through ns-exec.sh"
ns=("$tbin/ns-exec.sh" "$A/ns" --)
out=$(DBUS_SYSTEM_BUS_ADDRESS=$ns_bus "$py" "$src/build-aux/bench-helper.py" times "$NSEXEC_ROUNDS" 2 \
    ns_true "${ns[@]}" /usr/bin/true --- \
    ns_ostree "${ns[@]}" ostree admin status --- \
    ns_rpmostree "${ns[@]}" "$RPMOSTREE" status --json)
while read -r name m _ hi _; do med[$name]=$m p90[$name]=$hi; done <<< "$out"

# ---------------------------------------------------------------- 3. GetAll
say "3. bus calls: $CALLS rounds of Ping, GetAll(Sysroot), GetAll(OS), Reload on one connection"
declare -A us_med us_min us_p90
out=$(DBUS_SYSTEM_BUS_ADDRESS=$host_bus "$py" "$src/build-aux/bench-helper.py" calls "$CALLS" 20)
while read -r name m lo hi _; do us_med[$name]=$m us_min[$name]=$lo us_p90[$name]=$hi; done <<< "$out"
alive

# ---------------------------------------------------------------- 4. memory
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "$1"; }
read_mem() {  # PREFIX: sets PREFIX_{rss,anon,file,pss,threads}
    alive
    local s=/proc/$dpid/status
    printf -v "$1_rss" %s "$(kib "$s" VmRSS)"
    printf -v "$1_anon" %s "$(kib "$s" RssAnon)"
    printf -v "$1_file" %s "$(kib "$s" RssFile)"
    printf -v "$1_threads" %s "$(kib "$s" Threads)"
    printf -v "$1_pss" %s "$(kib "/proc/$dpid/smaps_rollup" Pss)"
}
read_mem m1
# The biggest file-backed mappings (KiB of resident pages per file).
top_files=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { f = $6 } /^Rss:/ && f != "" && f !~ /^\[/ { r[f] += $2 }
    END { for (f in r) print r[f], f }' "/proc/$dpid/smaps" | sort -rn | awk "NR <= 5" |
    awk '{ n = split($2, p, "/"); sub(/\.so.*/, "", p[n]); printf "%s%s %.1f", (NR > 1 ? ", " : ""), p[n], $1 / 1024 }')

# ---------------------------------------------------------------- 5. upgrade
say "5. upgrade v1 -> v2 ($NFILES files): $RUNS runs per variant, rotating, after a warm-up each"
"$tbin/set-head.sh" "$A" 2 >/dev/null
"$tbin/set-head.sh" "$B" 2 >/dev/null
nobj() { find "$1/sysroot/ostree/repo/objects" -type f | wc -l; }
base=$(nobj "$A")
[ "$(nobj "$B")" = "$base" ] || fail "the two fresh worlds have different object counts"
run_in() {  # WORLD NAME CMD...: one timed run spawned inside WORLD's namespace -> ms
    local w=$1 name=$2
    shift 2
    BENCH_CMD_LOG=$top/cmd.log in_w "$w" "$py" "$HELPER" times 1 0 "$name" "$@" | awk '{ print $2 }'
}
settle() {  # WORLD: let whoever manages WORLD see its current state (reset behind the
    # daemon's back: a staged deployment removed below ostree/deploy/OS, which it does not watch)
    if [ "$1" = "$A" ]; then
        in_a "$RPMOSTREE" reload && in_a "$RPMOSTREE" status >/dev/null
    else
        in_b ostree admin status >/dev/null
    fi
}
reset_world() {  # WORLD: back to the fresh state: no staged deployment, v2 not in the repo
    in_w "$1" sh -c "rm -f /run/ostree/staged-deployment && ostree admin cleanup >/dev/null &&
        ostree reset --repo=/ostree/repo $REMOTE_NAME:$REF $CSUM_V1 &&
        ostree prune --repo=/ostree/repo --refs-only >/dev/null"
    settle "$1"
}
upgrade_once() {  # VARIANT (A | B | B+cleanup) -> sets t (ms) and n (objects pulled)
    local v=$1 w
    if [ "$v" = A ]; then w=$A; else w=$B; fi
    [ "$(nobj "$w")" = "$base" ] || fail "$w does not start from the fresh state ($(nobj "$w") objects)"
    ! in_w "$w" ostree show --repo=/ostree/repo "$CSUM_V2" >/dev/null 2>&1 || fail "v2 already in $w's repo"
    case $v in
        A) if ! t=$(run_in "$w" upgrade "$RPMOSTREE" upgrade); then
               crashed || fail "rpm-ostree upgrade failed"
               reset_world "$w"
               upgrade_once "$v"
               return
           fi;;
        B) t=$(run_in "$w" upgrade ostree admin upgrade --stage);;
        B+cleanup) t=$(run_in "$w" upgrade sh -c 'ostree admin upgrade --stage && ostree admin cleanup');;
    esac
    in_w "$w" ostree admin status | grep "^  $OSNAME $CSUM_V2\.[0-9]* (staged)" >/dev/null ||
        fail "no staged v2 deployment in $w after the upgrade ($v)"
    n=$(( $(nobj "$w") - base ))
    reset_world "$w"
}
median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A runs
variants=(A B B+cleanup)
pulls=()
for v in "${variants[@]}"; do   # warm-ups, not counted
    upgrade_once "$v"
    pulls+=("$n")
done
[ "${pulls[0]}" = "${pulls[1]}" ] && [ "${pulls[0]}" = "${pulls[2]}" ] ||
    fail "the upgrades pulled different object counts (${pulls[*]})"
pulled=${pulls[0]}
for i in $(seq "$RUNS"); do
    k=$(( (i - 1) % 3 ))
    for v in "${variants[@]:k}" "${variants[@]:0:k}"; do
        upgrade_once "$v"
        [ "$n" = "$pulled" ] || fail "run $i ($v) pulled $n objects, not $pulled"
        runs[$v]="${runs[$v]:+${runs[$v]} }$t"
    done
done
# shellcheck disable=SC2086 # word splitting of the run lists is intended
{ up_a=$(median ${runs[A]}); up_b=$(median ${runs[B]}); up_bc=$(median ${runs[B+cleanup]}); }
read_mem m2
crashes_m2=$crashes

# ---------------------------------------------------------------- 6. cleanup
say "6. Cleanup pruning $pulled unreachable objects: $RUNS runs per tool, alternating"
prune_once() {  # WORLD -> sets t (ms)
    local w=$1
    in_w "$w" sh -c "ostree pull --repo=/ostree/repo $REMOTE_NAME $REF >/dev/null &&
        ostree reset --repo=/ostree/repo $REMOTE_NAME:$REF $CSUM_V1"
    [ $(( $(nobj "$w") - base )) = "$pulled" ] || fail "$w: the pull for item 6 did not add $pulled objects"
    settle "$w"
    if [ "$w" = "$B" ]; then
        t=$(run_in "$w" cleanup ostree admin cleanup)
    elif ! t=$(run_in "$w" cleanup "$RPMOSTREE" cleanup -b); then
        crashed || fail "rpm-ostree cleanup -b failed"
        in_a ostree prune --repo=/ostree/repo --refs-only >/dev/null
        prune_once "$w"
        return
    fi
    [ "$(nobj "$w")" = "$base" ] || fail "$w: the cleanup left $(( $(nobj "$w") - base )) unreachable objects"
}
pr_a=() pr_b=()
for i in $(seq "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then order=("$A" "$B"); else order=("$B" "$A"); fi
    for w in "${order[@]}"; do
        prune_once "$w"
        if [ "$w" = "$A" ]; then pr_a+=("$t"); else pr_b+=("$t"); fi
    done
done
pr_med_a=$(median "${pr_a[@]}") pr_med_b=$(median "${pr_b[@]}")

say "6. removing the rollback deployment: $RUNS runs per tool, alternating"
ndeploy() { find "$1/sysroot/ostree/deploy/$OSNAME/deploy" -mindepth 1 -maxdepth 1 -type d | wc -l; }
undeploy_once() {  # WORLD -> sets t (ms), or FAILED (this project; the deployment is then removed with ostree)
    local w=$1
    in_w "$w" ostree admin deploy --not-as-default --os="$OSNAME" "$REMOTE_NAME:$REF" >/dev/null 2>&1 ||
        fail "cannot add a rollback deployment to $w"
    [ "$(ndeploy "$w")" = 2 ] || fail "$w: expected 2 deployments, have $(ndeploy "$w")"
    settle "$w"
    if [ "$w" = "$B" ]; then
        t=$(run_in "$w" undeploy ostree admin undeploy 1)
    elif ! t=$(run_in "$w" cleanup "$RPMOSTREE" cleanup -r 2>/dev/null); then
        if crashed; then
            [ "$(ndeploy "$w")" = 1 ] || in_a ostree admin undeploy 1 >/dev/null 2>&1
            undeploy_once "$w"
            return
        fi
        in_a ostree admin undeploy 1 >/dev/null 2>&1
        t=FAILED
    fi
    [ "$(ndeploy "$w")" = 1 ] || fail "$w: the rollback deployment is still there"
    in_w "$w" ostree admin status | grep "^\* $OSNAME $CSUM_V1" >/dev/null || fail "$w: the booted deployment is gone"
}
cl_a=() cl_b=() cl_err=
for i in $(seq "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then order=("$A" "$B"); else order=("$B" "$A"); fi
    for w in "${order[@]}"; do
        if [ "$w" = "$A" ] && [ -n "$cl_err" ]; then continue; fi   # failed once: do not insist
        undeploy_once "$w"
        if [ "$t" = FAILED ]; then
            cl_err=$(grep '^error:' "$top/cmd.log" | tail -n 1)
            cl_err=${cl_err:-error: (no message)}
        elif [ "$w" = "$A" ]; then cl_a+=("$t"); else cl_b+=("$t"); fi
    done
done
cl_med_b=$(median "${cl_b[@]}")
[ -n "$cl_err" ] || cl_med_a=$(median "${cl_a[@]}")
read_mem m3

# ---------------------------------------------------------------- 7. package diffs
# shellcheck source=build-aux/bench-pkgdiff.sh
. "$src/build-aux/bench-pkgdiff.sh"
pkgdiff_bench

# ---------------------------------------------------------------- 8. rpm-md
# shellcheck source=build-aux/bench-rpmmd.sh
. "$src/build-aux/bench-rpmmd.sh"
rpmmd_bench

# ---------------------------------------------------------------- 9. layering
# shellcheck source=build-aux/bench-layer.sh
. "$src/build-aux/bench-layer.sh"
layer_bench

# ---------------------------------------------------------------- 10. container images
# shellcheck source=build-aux/bench-image.sh
. "$src/build-aux/bench-image.sh"
image_bench
total_s=$(( ($(date +%s%N) - t0) / 1000000000 ))

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
verdict() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == "<") ? a < b : a <= b; print ok ? "met" : "MISSED" }'; }
row() { printf '%-46s %14s %14s %6s  %s\n' "$@"; }
list() { local IFS=,; echo "$*"; }

st_ratio=$(ratio "${med[rpmostree]}" "${med[ostree]}")
net_a=$(minus "${med[rpmostree]}" "${med[rpmostree_v]}") net_b=$(minus "${med[ostree]}" "${med[ostree_v]}")
up_ratio=$(ratio "$up_a" "$up_b") up_ratio_c=$(ratio "$up_a" "$up_bc")
pr_ratio=$(ratio "$pr_med_a" "$pr_med_b")
if [ -n "$cl_err" ]; then cl_ratio=FAILED; else cl_ratio=$(ratio "$cl_med_a" "$cl_med_b"); fi
# shellcheck disable=SC2086
{ set -- ${runs[A]}; ra=$(list "$@"); set -- ${runs[B]}; rb=$(list "$@"); set -- ${runs[B+cleanup]}; rbc=$(list "$@"); }

echo
echo "rpm-ostree $bin"
echo "vs the libostree CLI $(ostree --version | awk -F"'" '/Version/ { print $2 }'), on the same test bed ($NFILES-file trees); medians"
echo
row "measurement" "this project" "libostree CLI" "ratio" "goal"
row "----------------------------------------------" "--------------" "--------------" "------" "------------------"
row "1. status --json | admin status" "${med[rpmostree]} ms" "${med[ostree]} ms" "$st_ratio" "<= 0.35 ($(verdict "$st_ratio" 0.35 '<='))"
row "   p90 of $STATUS_ROUNDS runs" "${p90[rpmostree]} ms" "${p90[ostree]} ms" "" ""
row "   --version (process start-up only)" "${med[rpmostree_v]} ms" "${med[ostree_v]} ms" "$(ratio "${med[rpmostree_v]}" "${med[ostree_v]}")" ""
row "   the command minus its --version" "$net_a ms" "$net_b ms" "" ""
row "   spawning /usr/bin/true (same path)" "${med[true]} ms" "${med[true]} ms" "" ""
row "   max RSS of the command" "$(mib "${rss[rpmostree]}")" "$(mib "${rss[ostree]}")" "" ""
row "   through ns-exec.sh, $NSEXEC_ROUNDS runs" "${med[ns_rpmostree]} ms" "${med[ns_ostree]} ms" "$(ratio "${med[ns_rpmostree]}" "${med[ns_ostree]}")" ""
row "   ns-exec.sh /usr/bin/true (its overhead)" "${med[ns_true]} ms" "${med[ns_true]} ms" "" ""
row "2. start-daemon to name owned (in-process)" "$start_int ms" "-" "" "< 60 ms ($(verdict "$start_int" 60 '<'))"
row "   spawn to NameOwnerChanged (external)" "$start_ext ms" "-" "" "< 60 ms ($(verdict "$start_ext" 60 '<'))"
row "   fastest of $START_ROUNDS (in-process / external)" "$start_int_min / $start_ext_min ms" "-" "" ""
row "3. GetAll(Sysroot), per call, $CALLS calls" "${us_med[getall_sysroot]} us" "-" "" ""
row "   min / p90" "${us_min[getall_sysroot]} / ${us_p90[getall_sysroot]} us" "-" "" ""
row "   Peer.Ping to the daemon (bus floor)" "${us_med[ping]} us" "-" "" ""
row "   GetAll(OS) / Reload" "${us_med[getall_os]} / ${us_med[reload]} us" "-" "" ""
row "   new bus connection (auth + Hello)" "${us_med[connect]} us" "-" "" ""
anon_goal() { echo "<= 3 MiB ($(verdict "$1" 3072 '<='))"; }
row "4. daemon RssAnon after items 1-3" "$(mib "$m1_anon")" "" "" "$(anon_goal "$m1_anon"); upstream 4.0 MiB"
row "   Pss / VmRSS / RssFile" "$(mib "$m1_pss") / $(mib "$m1_rss") / $(mib "$m1_file")" "" "" "upstream Pss 23.8 MiB"
row "   threads; max RSS of 'ostree admin status'" "$m1_threads" "$(mib "${rss[ostree]}")" "" ""
restarted() { [ "$1" = 0 ] || echo "(restarted ${1}x)"; }
row "   RssAnon / Pss / threads after item 5" "$(mib "$m2_anon") / $(mib "$m2_pss") / $m2_threads" "" "" "$(anon_goal "$m2_anon") $(restarted "$crashes_m2")"
row "   RssAnon / Pss / threads after item 6" "$(mib "$m3_anon") / $(mib "$m3_pss") / $m3_threads" "" "" "$(anon_goal "$m3_anon") $(restarted "$crashes")"
echo "   largest file mappings after item 3 (MiB): $top_files"
row "5. upgrade v1->v2 | --stage + admin cleanup" "$up_a ms" "$up_bc ms" "$up_ratio_c" "<= 0.9 ($(verdict "$up_ratio_c" 0.9 '<='))"
row "   | admin upgrade --stage alone (no prune)" "$up_a ms" "$up_b ms" "$up_ratio" ""
echo "   runs (ms): this project $ra; --stage $rb; --stage + cleanup $rbc"
echo "   objects pulled per run: $pulled, on every run of every variant"
row "6. cleanup -b | admin cleanup ($pulled objs)" "$pr_med_a ms" "$pr_med_b ms" "$pr_ratio" "none set"
echo "   runs (ms): this project $(list "${pr_a[@]}"); ostree $(list "${pr_b[@]}")"
if [ -n "$cl_err" ]; then
    row "   cleanup -r | admin undeploy 1" "FAILED" "$cl_med_b ms" "-" "none set"
    echo "   rpm-ostree cleanup -r: $cl_err"
else
    row "   cleanup -r | admin undeploy 1" "$cl_med_a ms" "$cl_med_b ms" "$cl_ratio" "none set"
    echo "   runs (ms): this project $(list "${cl_a[@]}"); ostree $(list "${cl_b[@]}")"
fi
pkgdiff_report
rpmmd_report
layer_report
image_report
echo
if [ "$crashes" != 0 ]; then
    echo "WARNING: the daemon died $crashes time(s) during items 5-6 (each such run was redone"
    echo "after a restart); first sign: $crash_msg"
    echo
fi
echo "Commands were spawned directly in the booted namespace (no nsenter/chroot) unless said."
echo "Item 4: the daemon's own anonymous memory (RssAnon) and its proportional share of"
echo "everything it maps (Pss); VmRSS also counts shared library pages in the page cache."
echo "Item 5: the daemon prunes the repository after staging (as upstream does), so it is"
echo "compared with 'ostree admin upgrade --stage' followed by 'ostree admin cleanup'."
echo
echo "SUMMARY: status --json ${st_ratio}x ostree admin status (goal <= 0.35: $(verdict "$st_ratio" 0.35 '<='));" \
    "name owned in $start_int ms in-process, $start_ext ms from spawn (goal < 60: $(verdict "$start_int" 60 '<'));" \
    "GetAll ${us_med[getall_sysroot]} us;" \
    "daemon RssAnon $(mib "$m1_anon") / Pss $(mib "$m1_pss") after the calls, RssAnon $(mib "$m2_anon") after upgrades, $(mib "$m3_anon") after cleanups (goal <= 3: $(verdict "$m1_anon" 3072 '<=')/$(verdict "$m2_anon" 3072 '<=')/$(verdict "$m3_anon" 3072 '<='));" \
    "upgrade ${up_ratio_c}x --stage+cleanup (goal <= 0.9: $(verdict "$up_ratio_c" 0.9 '<=')), ${up_ratio}x --stage alone;" \
    "cleanup ${pr_ratio}x; cleanup -r ${cl_ratio}$( [ -n "$cl_err" ] || echo x);" \
    "db diff of 2x2,000 packages ${pd_med[dbdiff]} ms (goal < 100: $(verdict "${pd_med[dbdiff]}" 100 '<')), RssAnon $(mib "$m4_anon") after (goal <= 3: $(verdict "$m4_anon" 3072 '<='));" \
    "refresh-md of $RPMMD_PACKAGES packages $rm_refresh ms, warm search ${rm_med[search]} ms (goal < 1500: $(verdict "${rm_med[search]}" 1500 '<')), helper peak $(mib "$rm_peak_refresh") (goal < 170: $(verdict "$rm_peak_refresh" 174080 '<')), daemon RssAnon $(mib "$m6_anon") after (goal <= 3: $(verdict "$m6_anon" 3072 '<='));" \
    "install of one package $ly_install ms (goal <= 300: $(verdict "$ly_install" 300 '<=')), layered upgrade ${ly_ratio}x unlayered (goal <= 1.3: $(verdict "$ly_ratio" 1.3 '<=')), RssAnon $(mib "$m8_anon") after (goal <= 3: $(verdict "$m8_anon" 3072 '<='));" \
    "image upgrade ${im_ratio}x the same upgrade from a remote (goal <= 1.5: $(verdict "$im_ratio" 1.5 '<=')), container helper peak $(mib "$im_helper"), RssAnon $(mib "$m9_anon") after (goal <= 3: $(verdict "$m9_anon" 3072 '<='));" \
    "daemon crashes: $crashes; ${total_s} s"
