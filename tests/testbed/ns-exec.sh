#!/bin/bash
# ns-exec.sh STATE_DIR [--pidfile FILE] -- CMD [ARGS...]
#
# Runs CMD inside the "booted" namespace started by booted-init.sh (whose
# STATE_DIR/pid and STATE_DIR/root it reads): joins its mount and PID namespaces and
# chroots into the deployment (cwd "/"), keeping the caller's environment,
# stdin/stdout/stderr. The final process tree is
#   nsenter (this pid, host PID namespace)  ->  CMD (host pid written to FILE)
# nsenter must fork to enter a PID namespace and does NOT forward signals: a SIGTERM
# to this pid kills only nsenter. Therefore:
#   * --pidfile FILE: CMD's pid as seen from the host is written to FILE (atomically,
#     before CMD is exec'ed; FILE must be a host path that existed when the namespace
#     was created, e.g. anything under /tmp or TB). Signal that pid to stop CMD; this
#     process then exits with CMD's exit code (or dies of the same signal).
#   * CMD gets SIGTERM when nsenter dies for whatever reason (PR_SET_PDEATHSIG via
#     `setpriv --pdeathsig TERM`), so killing this pid (even with SIGKILL) also stops
#     CMD, but without waiting for it.
# Exit status: CMD's exit status; if CMD is killed by a signal, nsenter kills itself
# with the same signal. Creates only FILE (and FILE.tmp transiently).
set -euo pipefail

die() { echo "ns-exec.sh: $*" >&2; exit 125; }
[ $# -ge 3 ] || die "usage: $0 STATE_DIR [--pidfile FILE] -- CMD [ARGS...]"
state=$1
shift
pidfile=
while [ $# -gt 0 ]; do
    case $1 in
        --pidfile) pidfile=$2; shift;;
        --) shift; break;;
        *) die "unknown argument $1";;
    esac
    shift
done
[ $# -ge 1 ] || die "no command given"
[ -f "$state/ready" ] || die "$state/ready does not exist (is booted-init.sh running?)"
pid=$(cat "$state/pid")
root=$(cat "$state/root")
case $pidfile in ''|/*) ;; *) pidfile=$PWD/$pidfile;; esac

# In the target mount namespace (not yet chrooted) /proc is the host's procfs, so the
# shell's own /proc/self/stat shows its host pid; exec keeps that pid through
# setpriv and chroot to CMD.
exec nsenter --target "$pid" --mount --pid -- /bin/sh -c '
    pidfile=$1 root=$2
    shift 2
    if [ -n "$pidfile" ]; then
        read -r self _ < /proc/self/stat
        echo "$self" > "$pidfile.tmp"
        mv -f "$pidfile.tmp" "$pidfile"
    fi
    exec setpriv --pdeathsig TERM -- chroot "$root" "$@"' ns-exec "$pidfile" "$root" "$@"
