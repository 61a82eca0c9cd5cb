#!/bin/bash
# pkglist.sh VERSION [RPMDIR]
#
# Prints, one per line, the file names of the base packages (made by build.sh) that
# belong in the rpmdb of the test OS tree of VERSION (make-tree.sh's VERSION), as
# RPMDIR/<file> if RPMDIR is given. The single source of truth for the package sets
# listed in README:
#   1, other-*   v1 set
#   2            v2 set
#   3            v3 set
#   anything else (e.g. the ad-hoc "4" of a test): the v3 set, so that every tree
#                gets a non-empty rpmdb
# Typical use:  rpmdb.sh TREE $(pkglist.sh 2 "$RPMS")   (paths without whitespace)
# or:           mapfile -t pkgs < <(pkglist.sh 2 "$RPMS"); rpmdb.sh TREE "${pkgs[@]}"
# Creates nothing. Cleanup: none.
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 VERSION [RPMDIR]" >&2; exit 2; }
version=$1
prefix=${2:+${2%/}/}

v1='tp-base-core-1.0-1
tp-base-a-1.0-1
tp-base-b-2.0-1
tp-base-gone-1.0-1
tp-base-epoch-1.0-1
tp-base-tilde-2.0~rc1-1'
v2='tp-base-core-1.0-1
tp-base-a-2.0-1
tp-base-b-2.0-1
tp-base-new-1.0-1
tp-base-epoch-1.0-1
tp-base-tilde-2.0~rc1-1'
v3='tp-base-core-1.0-1
tp-base-a-2.0-1
tp-base-b-1.5-1
tp-base-new-1.0-1
tp-base-epoch-1.0-1
tp-base-tilde-2.0-1'

case $version in
    1|other-*) set=$v1;;
    2) set=$v2;;
    *) set=$v3;;
esac
while IFS= read -r nvr; do
    printf '%s%s.noarch.rpm\n' "$prefix" "$nvr"
done <<< "$set"
