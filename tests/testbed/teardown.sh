#!/bin/bash
# teardown.sh TB
#
# Idempotent cleanup of a test bed directory TB (made by make-world.sh and friends):
#   1. kills the gpg-agent (and other GnuPG daemons) of TB/gnupg, if any
#      (`gpgconf --kill all`, then any leftover gpg-agent whose --homedir is TB/gnupg);
#   2. unmounts everything mounted at or under TB in this mount namespace, deepest
#      first (`umount -R`, falling back to `umount -R -l`), re-reading
#      /proc/self/mountinfo until nothing is left;
#   3. removes TB (`rm -rf`; if immutable files block it - deployment dirs are
#      chattr +i - it clears the flag with `chattr -R -i` and retries).
# It does not kill other processes (dbus-daemon, polkitd, booted namespaces): the
# caller owns those and should stop them first (a process still using a mount only
# forces the lazy unmount). Exits 0 even if TB or parts of it are already gone; exits
# non-zero only if TB still exists at the end.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 TB" >&2; exit 2; }
tb=$1
[ -e "$tb" ] || exit 0
tb=$(cd "$tb" && pwd -P) || exit 0

if [ -d "$tb/gnupg" ]; then
    pid=$(GNUPGHOME=$tb/gnupg gpg-connect-agent --no-autostart 'getinfo pid' /bye 2>/dev/null |
        awk '$1 == "D" { print $2 }')
    GNUPGHOME=$tb/gnupg gpgconf --kill all >/dev/null 2>&1 || true
    for _ in $(seq 200); do     # gpgconf --kill only asks the agent to exit
        [ -n "$pid" ] || break
        case $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo gone) in Z|gone) break;; esac
        sleep 0.01
    done
    for p in /proc/[0-9]*; do   # any other agent still naming TB/gnupg
        cmd=$( { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null) || continue
        case $cmd in *gpg-agent*"$tb/gnupg"*) kill -KILL "${p#/proc/}" 2>/dev/null || true;; esac
    done
fi

mounts_under_tb() {
    # field 5 of mountinfo is the mount point (octal-escaped; TB has no spaces)
    awk -v tb="$tb" '$5 == tb || index($5, tb "/") == 1 { print $5 }' /proc/self/mountinfo |
        awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2- | uniq
}
for _ in 1 2 3 4 5 6 7 8 9 10; do
    m=$(mounts_under_tb)
    [ -n "$m" ] || break
    while IFS= read -r mp; do
        umount -R "$mp" 2>/dev/null || umount -R -l "$mp" 2>/dev/null ||
            echo "teardown.sh: cannot unmount $mp" >&2
    done <<< "$m"
done

if ! rm -rf "$tb" 2>/dev/null; then
    chattr -R -i "$tb" 2>/dev/null
    rm -rf "$tb"
fi
if [ -e "$tb" ]; then
    echo "teardown.sh: could not remove $tb" >&2
    exit 1
fi
exit 0
