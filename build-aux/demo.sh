#!/bin/bash
# demo.sh BIN: the daemon doing its main job in a throwaway world.
#
# Builds a test-bed world (a tmpfs sysroot with a `testos` deployment of version 1,
# a remote with versions 1-3), a private system bus with the project's policy, a
# real polkitd, and a namespace booted into the deployment; starts the daemon there
# and drives it with the CLI: status, an upgrade to version 2 with progress, status
# again; then a package repository served on 127.0.0.1 and `install tp-app` (with
# its two dependencies) layered on version 2, and status. Everything is removed at the end, also on failure or Ctrl-C.
set -euo pipefail
bin=$(readlink -f "${1:?usage: demo.sh PATH-TO-rpm-ostree}")
src=$(cd "$(dirname "$0")/.." && pwd)
tbin=$src/tests/testbed
tb=$(mktemp -d /tmp/rpm-ostree-demo.XXXXXX)
chmod 0755 "$tb"
pids=()

cleanup() {
    set +e
    [ -f "$tb/daemon.pid" ] && kill "$(cat "$tb/daemon.pid")" 2>/dev/null
    # The namespace's init exits on SIGTERM and takes everything inside with it.
    [ -f "$tb/ns/pid" ] && kill "$(cat "$tb/ns/pid")" 2>/dev/null
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    "$tbin/teardown.sh" "$tb"
    echo "Removed $tb; no process or mount of the demo is left."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Creating a throwaway world in $tb (sysroot on tmpfs, remote with versions 1, 2, 3)"
"$tbin/make-world.sh" "$tb" --files 200
# shellcheck disable=SC1091
. "$tb/world.env"
"$tbin/set-head.sh" "$tb" 1

step "Starting a private system bus with the project's bus policy, and a real polkitd"
mkdir "$tb/policy" "$tb/polkit" "$tb/polkit/actions" "$tb/polkit/rules"
cp "$src/data/org.projectatomic.rpmostree1.conf" "$tb/policy/"
cp "$src/data/org.projectatomic.rpmostree1.policy" "$tb/polkit/actions/"
chmod -R a+rX "$tb/polkit"
"$tbin/bus-config.sh" "$tb" "$tb/policy" >/dev/null
exec 3< <(exec dbus-daemon --config-file="$tb/bus/system.conf" --nofork --nopidfile --nosyslog --print-address=1 2>/dev/null)
pids+=($!)
read -r address <&3
export DBUS_SYSTEM_BUS_ADDRESS=${address%%,*}
echo "bus: $DBUS_SYSTEM_BUS_ADDRESS"
"$tbin/polkitd.sh" "$tb/polkit/actions" "$tb/polkit/rules" &
pids+=($!)

step "Booting the deployment in a private PID + mount namespace (sysroot /)"
mkdir "$tb/ns"
unshare --mount --pid --fork --kill-child --propagation private -- \
    "$tbin/booted-init.sh" "$tb/ns" "$SYSROOT" "$tb/run" \
    --bind "$(dirname "$bin"):/srv" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -f "$tb/ns/ready" ] && break; sleep 0.05; done
[ -f "$tb/ns/ready" ] || { echo "the namespace did not come up" >&2; exit 1; }
in_ns() { DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket "$tbin/ns-exec.sh" "$tb/ns" -- "$@"; }

step "Starting rpm-ostreed (rpm-ostree start-daemon) in the booted system"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket \
    "$tbin/ns-exec.sh" "$tb/ns" --pidfile "$tb/daemon.pid" -- /srv/rpm-ostree start-daemon \
    </dev/null >"$tb/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
    busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.projectatomic.rpmostree1 >/dev/null 2>&1 && break
    sleep 0.05
done
busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" --no-pager tree org.projectatomic.rpmostree1
printf 'OS.Name = '
busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property org.projectatomic.rpmostree1 \
    /org/projectatomic/rpmostree1/testos org.projectatomic.rpmostree1.OS Name

step "rpm-ostree status"
in_ns /srv/rpm-ostree status

step "A new version (2) is published on the remote"
"$tbin/set-head.sh" "$tb" 2

step "rpm-ostree upgrade (through the daemon: pull with progress, staged deployment)"
in_ns /srv/rpm-ostree upgrade

step "rpm-ostree status"
in_ns /srv/rpm-ostree status

step "A package repository (RPMs built with rpmbuild, indexed with createrepo_c) served on 127.0.0.1"
"$tbin/rpms/build.sh" "$tb/rpms"
"$tbin/rpms/mkrepo.sh" "$tb/rpmmd" "$tb"/rpms/tp-{app,lib,tool}-1.0-1.noarch.rpm
exec 4< <(exec /usr/bin/python3 "$tbin/httpd.py" "$tb/rpmmd")
pids+=($!)
read -r port <&4
# The booted deployment's own /etc (the test bed's namespace shows the host's /etc
# at /etc, so the file goes straight into the deployment).
repos=$(cat "$tb/ns/root")/etc/yum.repos.d
mkdir -p "$repos"
cat > "$repos/demo.repo" <<REPO
[demo]
name=Demo packages
baseurl=http://127.0.0.1:$port/
gpgcheck=0
REPO
cat "$repos/demo.repo"

step "rpm-ostree install tp-app (depsolved against the base, downloaded, imported, layered on version 2)"
in_ns /srv/rpm-ostree install tp-app

step "rpm-ostree status"
in_ns /srv/rpm-ostree status

step "Daemon log"
cat "$tb/daemon.log"
step "Cleaning up"
