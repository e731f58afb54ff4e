#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay the overlay (new kernel files at their kernel paths) and patches/series
# onto the working kernel tree in the cache, touching only files whose
# content changes, so that kbuild rebuilds only what changed.
#
# Usage: sync-tree.sh [PRISTINE SRCTREE]   (defaults from scripts/lib.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pristine=${1:-$PRISTINE}
src=${2:-$SRCTREE}
manifest=$src/.dmatag-manifest
scratch=$(mktemp -d "${TMPDIR:-/tmp}/dmatag-sync.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Files a patch names (old and new side), without the a/ b/ prefix.
patch_files() {
	sed -n -e 's#^+++ b/##p' -e 's#^--- a/##p' "$1" | sed 's/[[:space:]].*$//' | sort -u
}

series=$DMATAG_ROOT/patches/series
patches=
if [ -f "$series" ]; then
	# a line: PATCH [overlay files the patch introduces, for the export]
	patches=$(sed -e 's/#.*//' "$series" | awk 'NF { print $1 }')
fi

# 1. pristine copies of every file a patch touches
for p in $patches; do
	[ -f "$DMATAG_ROOT/patches/$p" ] || die "patches/series names missing patch $p"
	for f in $(patch_files "$DMATAG_ROOT/patches/$p"); do
		if [ -f "$pristine/$f" ] && [ ! -e "$scratch/$f" ]; then
			mkdir -p "$scratch/$(dirname "$f")"
			cp "$pristine/$f" "$scratch/$f"
		fi
	done
done

# 2. overlay files
for d in $OVERLAY_DIRS; do
	[ -d "$DMATAG_ROOT/$d" ] || continue
	(cd "$DMATAG_ROOT" && find "$d" -type f) | while read -r f; do
		mkdir -p "$scratch/$(dirname "$f")"
		cp "$DMATAG_ROOT/$f" "$scratch/$f"
	done
done

# 3. the series, strictly (no fuzz), in order
for p in $patches; do
	# a patch may only introduce overlay files: then it has no diff of its own
	grep -qE '^(\+\+\+ b/|diff --git )' "$DMATAG_ROOT/patches/$p" || continue
	(cd "$scratch" && git apply --whitespace=nowarn -p1 "$DMATAG_ROOT/patches/$p") ||
		die "patch $p does not apply to $KERNEL_VERSION"
done

# 4. install what differs; put back what an earlier sync touched and this one
#    no longer does. Files are replaced by rename, never edited in place: the
#    working tree is a hard-linked copy of the pristine one.
(cd "$scratch" && find . -type f | sed 's#^\./##') | sort >"$scratch.new"
changed=0
install_file() { # install_file FROM TO
	cp "$1" "$2.dmatag-tmp"
	mv -f "$2.dmatag-tmp" "$2"
	changed=$((changed + 1))
}
while read -r f; do
	if ! cmp -s "$scratch/$f" "$src/$f"; then
		mkdir -p "$src/$(dirname "$f")"
		install_file "$scratch/$f" "$src/$f"
	fi
done <"$scratch.new"
if [ -f "$manifest" ]; then
	while read -r f; do
		if [ -f "$pristine/$f" ]; then
			cmp -s "$pristine/$f" "$src/$f" || install_file "$pristine/$f" "$src/$f"
		else
			rm -f "$src/$f"
			changed=$((changed + 1))
		fi
	done < <(comm -23 "$manifest" "$scratch.new")
fi
mv "$scratch.new" "$manifest"
log "tree in sync: $changed file(s) replaced, $(wc -l <"$manifest") file(s) from overlay and series"
