#!/bin/bash
# set-head.sh TB VERSION
#
# Moves the head of branch testos/stable/x86_64 in the remote repo TB/remote (made by
# make-world.sh) to the commit of VERSION (1, 2 or 3; checksums from TB/world.env),
# forwards or backwards, then regenerates the remote's summary.
# Creates nothing; modifies TB/remote/refs/heads/testos/stable/x86_64 and TB/remote/summary.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 TB VERSION" >&2; exit 2; }
tb=$1 version=$2
env=$tb/world.env
[ -f "$env" ] || { echo "set-head.sh: $env not found" >&2; exit 1; }
csum=$(sed -n "s/^CSUM_V$version=//p" "$env")
remote=$(sed -n 's/^REMOTE=//p' "$env")
ref=$(sed -n 's/^REF=//p' "$env")
[ -n "$csum" ] || { echo "set-head.sh: unknown version '$version' (expected 1, 2 or 3)" >&2; exit 1; }

ostree reset --repo="$remote" "$ref" "$csum"
ostree summary --repo="$remote" -u
