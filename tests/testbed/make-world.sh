#!/bin/bash
# make-world.sh TB [--gpg] [--files N]
#
# Builds a complete, hermetic OSTree "world" in the existing, empty directory TB
# (testbed.md §1). TB must be an absolute-or-relative path without whitespace or
# shell-special characters (world.env is unquoted). For `file://` pulls from inside a
# booted namespace (booted-init.sh binds the host's /tmp), TB should live under /tmp.
#
# Options:
#   --gpg       make a fresh ed25519 key in TB/gnupg, sign every commit, and
#               configure both remotes with gpg-verify=true + the public key
#   --files N   files per tree under usr/share/testos/files (default 20)
#
# Creates:
#   TB/sysroot        tmpfs (size=1g,mode=0755) with `ostree admin init-fs` +
#                     `os-init testos`; v1 deployed for stateroot testos with kargs
#                     `root=LABEL=root rw`; repo remotes `testremote` and `otherremote`,
#                     both url=file://TB/remote; the repo's ref
#                     testremote:testos/stable/x86_64 (refs/remotes/...) is at v1
#   TB/remote         archive repo: testos/stable/x86_64 = v1 <- v2 <- v3 (head v3),
#                     testos/other/x86_64 = other-1; summary up to date (not signed)
#                     (core.fsync=false: test data)
#   TB/gnupg          (only with --gpg) GnuPG home with the key; pubkey.asc in it
#   TB/world.env      KEY=VALUE lines, no quoting, written last (atomically):
#                     TB SYSROOT REMOTE REMOTE_URL REMOTE_NAME=testremote
#                     OTHER_REMOTE_NAME=otherremote OSNAME=testos REF=testos/stable/x86_64
#                     OTHER_REF=testos/other/x86_64 CSUM_V1 CSUM_V2 CSUM_V3 CSUM_OTHER
#                     KVER=6.1.0-testos GPG=0|1 [GNUPGHOME KEYID (fingerprint) with --gpg]
# Checksums are deterministic (fixed timestamps, uid/gid 0, no xattrs) for a given
# --files N. Nothing on stdout; ostree's chatter on stderr. No process is left
# running (the gpg-agent is stopped and waited for). ~0.6 s (1 s with --gpg).
# Cleanup (also after a failure): teardown.sh TB (unmounts TB/sysroot, removes TB).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gpg=0 nfiles=20 tb=
while [ $# -gt 0 ]; do
    case $1 in
        --gpg) gpg=1;;
        --files) nfiles=$2; shift;;
        -*) echo "make-world.sh: unknown option $1" >&2; exit 2;;
        *) [ -z "$tb" ] || { echo "usage: $0 TB [--gpg] [--files N]" >&2; exit 2; }; tb=$1;;
    esac
    shift
done
[ -n "$tb" ] || { echo "usage: $0 TB [--gpg] [--files N]" >&2; exit 2; }
[ -d "$tb" ] || { echo "make-world.sh: $tb is not a directory" >&2; exit 1; }
tb=$(cd "$tb" && pwd)
case $tb in *[!A-Za-z0-9_./-]*) echo "make-world.sh: unsupported characters in path $tb" >&2; exit 1;; esac
[ -z "$(ls -A "$tb")" ] || { echo "make-world.sh: $tb is not empty" >&2; exit 1; }

OSNAME=testos
REF=testos/stable/x86_64
OTHER_REF=testos/other/x86_64
KVER=6.1.0-testos
SYSROOT=$tb/sysroot
REMOTE=$tb/remote
REMOTE_URL=file://$REMOTE
GNUPGHOME=
KEYID=
repo=$SYSROOT/ostree/repo

cleanup_gpg() {
    # `gpgconf --kill all` only asks the agent to exit: wait (bounded) until it is dead.
    [ -n "$GNUPGHOME" ] || return 0
    local pid
    pid=$(GNUPGHOME=$GNUPGHOME gpg-connect-agent --no-autostart 'getinfo pid' /bye 2>/dev/null |
        awk '$1 == "D" { print $2 }') || true
    GNUPGHOME=$GNUPGHOME gpgconf --kill all || true
    [ -n "$pid" ] || return 0
    for _ in $(seq 500); do
        case $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo gone) in Z|gone) return 0;; esac
        sleep 0.01
    done
    echo "make-world.sh: gpg-agent $pid did not exit" >&2
}
trap cleanup_gpg EXIT

mkdir "$SYSROOT"
mount -t tmpfs -o size=1g,mode=0755 tmpfs "$SYSROOT"
ostree admin init-fs "$SYSROOT" >&2
ostree admin os-init --sysroot="$SYSROOT" "$OSNAME" >&2
ostree init --repo="$REMOTE" --mode=archive
ostree config --repo="$REMOTE" set core.fsync false   # test data: no fsync per object

sign=()
import=()
if [ "$gpg" = 1 ]; then
    GNUPGHOME=$tb/gnupg
    mkdir -m 0700 "$GNUPGHOME"
    export GNUPGHOME
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
        --quick-gen-key 'Test OS <t@example.invalid>' ed25519 sign never 2>/dev/null
    KEYID=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
    gpg --batch --armor --export "$KEYID" > "$GNUPGHOME/pubkey.asc"
    sign=(--gpg-sign="$KEYID" --gpg-homedir="$GNUPGHOME")
    import=(--set=gpg-verify=true --gpg-import="$GNUPGHOME/pubkey.asc")
else
    import=(--set=gpg-verify=false)
fi

work=$SYSROOT/tree.tmp   # transient; on the tmpfs: much faster than the disk for big trees
commit() {  # commit BRANCH VERSION SUBJECT TIMESTAMP -> prints checksum
    rm -rf "$work"
    "$here/make-tree.sh" "$work" "$2" "$nfiles"
    ostree commit --repo="$REMOTE" --branch="$1" --tree=dir="$work" \
        --subject="$3" --add-metadata-string=version="$2" --timestamp="$4" \
        --owner-uid=0 --owner-gid=0 --no-xattrs "${sign[@]}"
    rm -rf "$work"
}

CSUM_V1=$(commit "$REF" 1 v1 "2024-01-01 00:00:00 +0000")
CSUM_OTHER=$(commit "$OTHER_REF" other-1 other-1 "2024-02-15 00:00:00 +0000")
ostree summary --repo="$REMOTE" -u

ostree remote add --repo="$repo" "${import[@]}" testremote "$REMOTE_URL" >&2
ostree remote add --repo="$repo" "${import[@]}" otherremote "$REMOTE_URL" >&2
ostree pull --repo="$repo" testremote "$REF" >&2
ostree admin deploy --sysroot="$SYSROOT" --os="$OSNAME" \
    --karg=root=LABEL=root --karg=rw "testremote:$REF" >&2

CSUM_V2=$(commit "$REF" 2 v2 "2024-02-01 00:00:00 +0000")
CSUM_V3=$(commit "$REF" 3 v3 "2024-03-01 00:00:00 +0000")
ostree summary --repo="$REMOTE" -u

cat > "$tb/world.env.tmp" <<ENV
TB=$tb
SYSROOT=$SYSROOT
REMOTE=$REMOTE
REMOTE_URL=$REMOTE_URL
REMOTE_NAME=testremote
OTHER_REMOTE_NAME=otherremote
OSNAME=$OSNAME
REF=$REF
OTHER_REF=$OTHER_REF
CSUM_V1=$CSUM_V1
CSUM_V2=$CSUM_V2
CSUM_V3=$CSUM_V3
CSUM_OTHER=$CSUM_OTHER
KVER=$KVER
GPG=$gpg
ENV
if [ "$gpg" = 1 ]; then
    printf 'GNUPGHOME=%s\nKEYID=%s\n' "$GNUPGHOME" "$KEYID" >> "$tb/world.env.tmp"
fi
mv "$tb/world.env.tmp" "$tb/world.env"
