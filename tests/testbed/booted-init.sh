#!/bin/bash
# booted-init.sh STATE_DIR SYSROOT RUNDIR [--entry N] [--bind SRC:DEST]...
#
# "Boots" an OSTree deployment of SYSROOT without a VM (testbed.md §2). Run it as PID 1
# of fresh mount + PID namespaces:
#   unshare --mount --pid --fork --kill-child --propagation private -- \
#       tests/testbed/booted-init.sh STATE_DIR SYSROOT RUNDIR [...]
# (--kill-child: if the unshare process is SIGKILLed, this PID 1 gets SIGKILL too.)
#
# It picks a BLS entry of SYSROOT/boot/loader/entries, ordered by their `version`
# field, highest first (entry 0 = what a bootloader boots by default; --entry N picks
# the Nth, 0-based), resolves the entry's `ostree=` karg to the deployment dir D and
# mounts, in its private mount namespace:
#   D on itself (bind); SYSROOT on D/sysroot; SYSROOT/boot on D/boot;
#   overlay lowerdir=D/usr:/usr on D/usr (the tree's /usr over the host's, read-only);
#   host /etc on D/etc; SYSROOT/ostree/deploy/<os>/var on D/var;
#   a new proc on D/proc; rbind /dev on D/dev; rbind /sys on D/sys;
#   RUNDIR on D/run (and touches D/run/ostree-booted, i.e. RUNDIR/ostree-booted);
#   host /tmp on D/tmp; each --bind SRC:DEST on D/DEST (DEST must already exist in
#   the deployment, e.g. /srv, /mnt, /opt, /media, /home; deployments are immutable,
#   nothing can be created in them).
# RUNDIR is not cleared: it is the booted system's /run (pass TB/run so that the
# private bus socket TB/run/dbus/system_bus_socket is /run/dbus/system_bus_socket
# inside). For `file://` remotes under /tmp to work inside, keep TB under /tmp.
# Then it writes STATE_DIR/root (D), STATE_DIR/pid (this process's pid as seen from the
# host, for nsenter/kill), and last STATE_DIR/ready (empty), and waits.
# STATE_DIR must not contain a `ready` file when this starts (it refuses to run, so a
# poller can never see a stale one); stale root/pid files are removed.
# SIGTERM or SIGINT -> removes STATE_DIR/{ready,pid,root} and exits 0, which kills every
# process of the namespace (SIGKILL) and frees all of its mounts (nothing is ever
# mounted in the host's namespace). After a SIGKILL the state files stay behind.
# Use ns-exec.sh STATE_DIR -- CMD... to run commands in the "booted" system.
set -euo pipefail
trap 'exit 0' TERM INT   # PID 1 of a namespace only gets signals it has handlers for

die() { echo "booted-init.sh: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: $0 STATE_DIR SYSROOT RUNDIR [--entry N] [--bind SRC:DEST]..."
state=$1 sysroot=$2 rundir=$3
shift 3
entry=0
binds=()
while [ $# -gt 0 ]; do
    case $1 in
        --entry) entry=$2; shift;;
        --bind) binds+=("$2"); shift;;
        *) die "unknown argument $1";;
    esac
    shift
done
[ "$$" = 1 ] || die "must run as PID 1 of a new PID namespace (unshare --mount --pid --fork ...)"
case $entry in ''|*[!0-9]*) die "--entry needs a number";; esac
for d in "$state" "$sysroot" "$rundir"; do [ -d "$d" ] || die "$d is not a directory"; done
state=$(cd "$state" && pwd) sysroot=$(cd "$sysroot" && pwd) rundir=$(cd "$rundir" && pwd)
[ ! -e "$state/ready" ] || die "stale $state/ready: remove it (or use a fresh STATE_DIR) before starting"
rm -f "$state/pid" "$state/root"
trap 'rm -f "$state/ready" "$state/pid" "$state/root"; exit 0' TERM INT

# /proc is still the host's procfs (it belongs to the host PID namespace), so
# /proc/self/stat, opened by the shell itself (builtin read, no fork), starts with
# this shell's pid as the host sees it.
read -r outer_pid _ < /proc/self/stat
[ "$outer_pid" != 1 ] || die "cannot determine the outer pid (is /proc the host's?)"

# Choose the BLS entry: sort by `version`, highest first.
sorted=$(for f in "$sysroot"/boot/loader/entries/*.conf; do
    [ -e "$f" ] || die "no BLS entries in $sysroot/boot/loader/entries"
    v=$(awk '$1 == "version" { print $2 }' "$f")
    printf '%s %s\n' "${v:-0}" "$f"
done | sort -k1,1nr)
conf=$(printf '%s\n' "$sorted" | sed -n "$((entry + 1))p" | cut -d' ' -f2-)
[ -n "$conf" ] || die "no BLS entry number $entry (have $(printf '%s\n' "$sorted" | wc -l))"
ostree_karg=$(awk '$1 == "options" { for (i = 2; i <= NF; i++) if ($i ~ /^ostree=/) print substr($i, 8) }' "$conf")
[ -n "$ostree_karg" ] || die "no ostree= karg in $conf"
osname=$(echo "$ostree_karg" | cut -d/ -f4)    # /ostree/boot.N/<os>/<bootcsum>/<serial>
D=$(readlink -f "$sysroot$ostree_karg")
case $D in "$(readlink -f "$sysroot")/ostree/deploy/$osname/deploy/"*) ;; *) die "$ostree_karg resolves to $D";; esac
[ -d "$D" ] || die "deployment $D missing"
echo "booted-init.sh: booting $conf -> $D" >&2

mount --bind "$D" "$D"
mount --bind "$sysroot" "$D/sysroot"
mount --bind "$sysroot/boot" "$D/boot"
mount -t overlay overlay -o "lowerdir=$D/usr:/usr" "$D/usr"
mount --bind /etc "$D/etc"
mount --bind "$sysroot/ostree/deploy/$osname/var" "$D/var"
mount -t proc proc "$D/proc"
mount --rbind /dev "$D/dev"
mount --rbind /sys "$D/sys"
mount --bind "$rundir" "$D/run"
touch "$D/run/ostree-booted"
mount --bind /tmp "$D/tmp"
for b in "${binds[@]}"; do
    src=${b%%:*} dest=${b#*:}
    [ -e "$src" ] || die "--bind $b: $src does not exist"
    [ -e "$D$dest" ] || die "--bind $b: $dest does not exist in the deployment (use an existing mount point)"
    mount --bind "$src" "$D$dest"
done

echo "$D" > "$state/root.tmp" && mv -f "$state/root.tmp" "$state/root"
echo "$outer_pid" > "$state/pid.tmp" && mv -f "$state/pid.tmp" "$state/pid"
: > "$state/ready"

while :; do
    sleep infinity &
    wait $! || true
done
