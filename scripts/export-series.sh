#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Export the repo as a `git am`-able series against v6.1.192: a cover letter
# (patches/cover-letter, 0000-*) and one mail per line of patches/series, in
# order, numbered [PATCH n/N]. A line names the patch (a mail: From:,
# Subject:, body, then the diff of edits to existing files, possibly none)
# and the overlay files that the patch introduces; their creation diffs are
# appended to that patch. Every overlay file must belong to exactly one patch.
#
# The same mails also go out as two series, each numbered on its own:
# OUTDIR/fixes/, the fixes of stock 6.1 that the tests need (the patches
# with a Fixes: tag), for the stable tree; and OUTDIR/dma-tags/, the
# feature itself (patches/cover-letter), which applies on top of them.
#
# Usage: export-series.sh [OUTDIR]   (default out/series)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

outdir=${1:-$DMATAG_OUT/series}
series=$DMATAG_ROOT/patches/series
[ -f "$series" ] || die "no patches/series"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/dmatag-export.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# every overlay file, and every one the series claims
for d in $OVERLAY_DIRS; do
	if [ -d "$DMATAG_ROOT/$d" ]; then (cd "$DMATAG_ROOT" && find "$d" -type f); fi
done | sort >"$scratch/overlay"
sed -e 's/#.*//' "$series" | awk 'NF > 1 { for (i = 2; i <= NF; i++) print $i }' |
	sort >"$scratch/claimed"
dup=$(uniq -d "$scratch/claimed")
[ -z "$dup" ] || die "overlay files claimed by two patches: $dup"
orphans=$(comm -23 "$scratch/overlay" "$scratch/claimed")
[ -z "$orphans" ] || die "overlay files no patch claims (add them to a line of patches/series): $orphans"
ghosts=$(comm -13 "$scratch/overlay" "$scratch/claimed")
[ -z "$ghosts" ] || die "patches/series claims files the repo does not have: $ghosts"

# new_file_diff PATH: the creation diff of an overlay file, git style
new_file_diff() {
	(cd "$DMATAG_ROOT" && git diff --no-index --no-color --full-index /dev/null "$1") || true
}

# is_fix PATCH: the mail says what it fixes
is_fix() { sed '/^---$/q' "$DMATAG_ROOT/patches/$1" | grep -q '^Fixes: '; }

# lines LIST: the lines of patches/series (patch, then its overlay files) of
# LIST: all, fixes or dma-tags
lines() {
	sed -e 's/#.*//' "$series" | awk 'NF' | while read -r patch files; do
		case $1 in
		fixes) is_fix "$patch" || continue ;;
		dma-tags) ! is_fix "$patch" || continue ;;
		esac
		echo "$patch $files"
	done
}

# emit LIST DIR COVER: the mails of LIST in DIR, numbered [PATCH n/N], and a
# cover letter from COVER (a file with @N@ for the count)
emit() {
	local list=$1 dir=$2 cover=$3 total n=0 patch files src dst f p
	mkdir -p "$dir"
	lines "$list" >"$scratch/lines"
	total=$(wc -l <"$scratch/lines")
	# no such patch: no series (and no cover letter for nothing)
	[ "$total" -gt 0 ] || { rmdir "$dir"; return 0; }
	while read -r patch files; do
		n=$((n + 1))
		src=$DMATAG_ROOT/patches/$patch
		[ -f "$src" ] || die "patches/series names missing patch $patch"
		grep -q '^Subject: ' "$src" || die "$patch: not a mail (no Subject:)"
		dst=$dir/$(printf '%04d' "$n")-${patch#[0-9][0-9][0-9][0-9]-}
		awk -v tag="[PATCH $n/$total]" '/^-- $/ { exit }
			!done && sub(/^Subject: \[PATCH\]/, "Subject: " tag) { done = 1 }
			{ print }' "$src" >"$dst"
		grep -q '^---$' "$dst" || printf -- '---\n' >>"$dst"
		for f in $files; do
			new_file_diff "$f" >>"$dst"
		done
		printf -- '-- \ndmatag\n\n' >>"$dst"
	done <"$scratch/lines"
	[ -f "$cover" ] || return 0
	{
		sed "s/@N@/$total/g" "$cover"
		echo
		echo "dmatag ($total):"
		for p in "$dir"/[0-9][0-9][0-9][0-9]-*.patch; do
			case "$p" in */0000-*) continue ;; esac
			sed -n 's/^Subject: \[PATCH [0-9]*\/[0-9]*\] /  /p' "$p" | head -n 1
		done
		printf -- '\n-- \ndmatag\n\n'
	} >"$dir/0000-cover-letter.patch"
}

cat >"$scratch/fixes-cover" <<'EOF'
From: dmatag <dmatag@users.noreply.github.com>
Subject: [PATCH 0/@N@] fixes for 6.1 found by the DMA tags tests

Bugs of stock 6.1.192 that the tests of the DMA tags series (sent
separately, on top of these) run into. Each has a Fixes: tag and a
reproducer in its changelog, and applies to v6.1.192 on its own; none
depends on the DMA tags.
EOF

rm -rf "$outdir"
emit all "$outdir" "$DMATAG_ROOT/patches/cover-letter"
emit fixes "$outdir/fixes" "$scratch/fixes-cover"
emit dma-tags "$outdir/dma-tags" "$DMATAG_ROOT/patches/cover-letter"
log "series: $(lines all | wc -l) patch(es) and a cover letter in $outdir ($(lines fixes | wc -l) in fixes/, $(lines dma-tags | wc -l) in dma-tags/)"
