#!/bin/bash
# selinux-branch.sh TB BRANCH BIN_TYPE DATE
#
# Commits to the test bed's remote (TB/remote, summary updated) a branch BRANCH
# whose tree is v1's plus a small SELinux policy, in /usr/etc/selinux as an ostree
# tree keeps it, and labels every file of it with that policy (ostree commit
# --selinux-policy), so that layering on it labels what it adds:
#   usr/etc/selinux/config               SELINUX=permissive, SELINUXTYPE=tp
#   usr/etc/selinux/tp/contexts/files/file_contexts
#       /.*                system_u:object_r:default_t:s0
#       /usr/bin(/.*)?     system_u:object_r:BIN_TYPE:s0
#       /etc(/.*)?         system_u:object_r:etc_t:s0
#   usr/etc/selinux/tp/policy/policy.33  a stand-in binary policy (its content is
#                                        the policy checksum's input; BIN_TYPE in it,
#                                        so each BIN_TYPE is another policy)
#   usr/bin/semodule                     `exit 0`: libostree runs the tree's
#                                        semodule when it deploys a tree with a policy
# No kernel policy is involved: labels are xattrs that libselinux looks up in
# file_contexts. The commit has version selinux-BIN_TYPE and timestamp DATE
# (e.g. 2024-03-01; a later one makes an upgrade). Prints the new commit's checksum. Uses TB/sysroot/ostree/repo/tmp
# as scratch (removed). Requires make-world.sh to have made TB.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 TB BRANCH BIN_TYPE DATE" >&2; exit 2; }
tb=$1 branch=$2 bin_type=$3 date=$4
. "$tb/world.env"
work=$SYSROOT/ostree/repo/tmp/selinux-branch.$$
trap 'rm -rf "$work"' EXIT
ostree checkout --repo="$REMOTE" "$CSUM_V1" "$work" >&2
pol=$work/usr/etc/selinux
mkdir -p "$pol/tp/contexts/files" "$pol/tp/policy"
printf 'SELINUX=permissive\nSELINUXTYPE=tp\n' >"$pol/config"
printf '/.*\tsystem_u:object_r:default_t:s0\n/usr/bin(/.*)?\tsystem_u:object_r:%s:s0\n/etc(/.*)?\tsystem_u:object_r:etc_t:s0\n' \
    "$bin_type" >"$pol/tp/contexts/files/file_contexts"
printf 'test policy %s\n' "$bin_type" >"$pol/tp/policy/policy.33"
printf '#!/bin/sh\nexit 0\n' >"$work/usr/bin/semodule"
chmod 0755 "$work/usr/bin/semodule"
ostree commit --repo="$REMOTE" -b "$branch" --tree=dir="$work" --selinux-policy="$work" \
    --add-metadata-string=version="selinux-$bin_type" --timestamp="$date 00:00:00 +0000"
ostree summary --repo="$REMOTE" -u >&2
