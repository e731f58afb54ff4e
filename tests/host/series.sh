#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The repo's own series, exported as it would be mailed: every patch is a
# mail with a subject and a sign-off, and checkpatch --strict of 6.1.192
# finds nothing in it. The one message allowed is the MAINTAINERS reminder
# for new files: BLOCK LAYER already covers block/ and include/linux/blk*.
set -uo pipefail
DMATAG_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$DMATAG_ROOT/tests/host/lib.sh"
. "$DMATAG_ROOT/scripts/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checkpatch=${CHECKPATCH:-$PRISTINE/scripts/checkpatch.pl}

t_check series-exports eval 'bash "$DMATAG_ROOT/scripts/export-series.sh" "$tmp/series" 2>/dev/null'
t_check series-checkpatch-available test -f "$checkpatch"
t_check series-cover-letter grep -q '^Subject: \[PATCH 0/[0-9]*\] ' "$tmp/series/0000-cover-letter.patch"
for p in "$tmp"/series/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -f "$p" ] || continue
	name=$(basename "$p" .patch)
	case "$name" in 0000-*) continue ;; esac
	t_check "$name-numbered" grep -q '^Subject: \[PATCH [1-9][0-9]*/[0-9]*\] ' "$p"
	t_check "$name-signed-off" grep -q '^Signed-off-by: ' "$p"
	# UNKNOWN_COMMIT_ID needs upstream's history to look a Fixes: id up,
	# and no tree here has it (Debian's tarball has none): the form of
	# the line (12-digit id, quoted subject) is still checked
	perl "$checkpatch" --strict --no-tree --ignore UNKNOWN_COMMIT_ID "$p" >"$tmp/cp.log" 2>&1
	grep -E '^(ERROR|WARNING|CHECK):' "$tmp/cp.log" |
		grep -v 'does MAINTAINERS need updating' >"$tmp/cp.msgs"
	# a checkpatch that did not run (missing, perl error) says no total
	if ! grep -q '^total: [0-9]* errors, ' "$tmp/cp.log"; then
		echo "not ok - $name-checkpatch # checkpatch did not check it: $(head -n 1 "$tmp/cp.log")"
		t_fail=1
	elif [ -s "$tmp/cp.msgs" ]; then
		echo "not ok - $name-checkpatch # $(head -n 1 "$tmp/cp.msgs")"
		sed 's/^/#   /' "$tmp/cp.log"
		t_fail=1
	else
		echo "ok - $name-checkpatch"
	fi
done
exit $t_fail
