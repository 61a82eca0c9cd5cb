#!/bin/bash
# polkitd.sh ACTIONS_DIR RULES_DIR
#
# Runs a real polkitd (/usr/lib/polkit-1/polkitd --no-debug) against a private bus,
# isolated from the host's polkit configuration (testbed.md §3). The process the
# caller spawns IS polkitd in the end (this script re-execs itself through
# `unshare --mount --propagation private`, which unshares in place without forking,
# then execs polkitd): SIGTERM/SIGKILL to the caller's child pid stop polkitd directly.
# No PID namespace: polkitd must see callers' /proc/<pid>.
#
# In the private mount namespace:
#   /usr/share/polkit-1/actions   <- bind of ACTIONS_DIR  (*.policy files)
#   /etc/polkit-1/rules.d         <- bind of RULES_DIR    (*.rules files)
#   /usr/share/polkit-1/rules.d   <- an empty tmpfs (mode 0700, owner polkitd)
# Environment: DBUS_SYSTEM_BUS_ADDRESS (required) = the private bus polkitd registers
# org.freedesktop.PolicyKit1 on. Poll that name (e.g. NameHasOwner) for readiness.
#
# Permissions (polkitd drops to user `polkitd` right away and reads everything as that
# user): ACTIONS_DIR and RULES_DIR themselves must be readable+searchable by polkitd
# (e.g. 0755, or 0700 owned by polkitd) and the files in them readable (0644). Their
# parent directories do not matter (even a 0700 root mktemp dir is fine): polkitd
# reaches them through the bind mounts under /usr/share and /etc.
# Creates nothing on the host; leaves nothing behind once polkitd is dead.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 ACTIONS_DIR RULES_DIR" >&2
    exit 2
fi
[ -n "${DBUS_SYSTEM_BUS_ADDRESS:-}" ] || { echo "polkitd.sh: DBUS_SYSTEM_BUS_ADDRESS is not set" >&2; exit 1; }
for d in "$1" "$2"; do
    [ -d "$d" ] || { echo "polkitd.sh: $d is not a directory" >&2; exit 1; }
done

if [ "${_TESTBED_POLKITD_NS:-}" != "$$" ]; then
    # unshare without --fork: unshare(2) in place, then exec - same pid.
    export _TESTBED_POLKITD_NS=$$
    exec unshare --mount --propagation private -- "$0" "$@"
fi
unset _TESTBED_POLKITD_NS

mount --bind "$1" /usr/share/polkit-1/actions
mount --bind "$2" /etc/polkit-1/rules.d
mount -t tmpfs -o mode=0700,uid="$(id -u polkitd)",size=64k tmpfs /usr/share/polkit-1/rules.d
exec /usr/lib/polkit-1/polkitd --no-debug
