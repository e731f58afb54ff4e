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

rm -rf "$outdir"
mkdir -p "$outdir"
total=$(sed -e 's/#.*//' "$series" | awk 'NF' | wc -l)
n=0
sed -e 's/#.*//' "$series" | awk 'NF' | while read -r patch files; do
	n=$((n + 1))
	src=$DMATAG_ROOT/patches/$patch
	[ -f "$src" ] || die "patches/series names missing patch $patch"
	grep -q '^Subject: ' "$src" || die "$patch: not a mail (no Subject:)"
	dst=$outdir/$(printf '%04d' "$n")-${patch#[0-9][0-9][0-9][0-9]-}
	# the mail up to its signature ("-- " line), numbered, then the new files
	awk -v tag="[PATCH $n/$total]" '/^-- $/ { exit }
		!done && sub(/^Subject: \[PATCH\]/, "Subject: " tag) { done = 1 }
		{ print }' "$src" >"$dst"
	grep -q '^---$' "$dst" || printf -- '---\n' >>"$dst"
	for f in $files; do
		new_file_diff "$f" >>"$dst"
	done
	printf -- '-- \ndmatag\n\n' >>"$dst"
done
# the cover letter (patches/cover-letter), with the shortlog of the series
cover=$DMATAG_ROOT/patches/cover-letter
if [ -f "$cover" ]; then
	{
		sed "s/@N@/$total/g" "$cover"
		echo
		echo "dmatag ($total):"
		for p in "$outdir"/[0-9][0-9][0-9][0-9]-*.patch; do
			case "$p" in */0000-*) continue ;; esac
			sed -n 's/^Subject: \[PATCH [0-9]*\/[0-9]*\] /  /p' "$p" | head -n 1
		done
		printf -- '\n-- \ndmatag\n\n'
	} >"$outdir/0000-cover-letter.patch"
fi
log "series: $total patch(es) and a cover letter in $outdir"
