#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# vm_console_tail of scripts/lib.sh: a failure report shows where the
# guest's first kernel complaint starts (its type and address), not only
# the end of a long trace, and only the tail when there was none.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

{
	printf '[3.41] dmatag guest: run=test:x\r\n'
	echo "not ok - kernel-log-clean # [    1.28] BUG: KASAN: wild-memory-access in f+0x1/0x2"
	echo "--- kernel log complaints (3 lines):"
	echo "--- around the first:"
	echo "[    1.28] =================================================="
	echo "[    1.28] BUG: KASAN: wild-memory-access in f+0x1/0x2"
	echo "[    1.28] Write of size 4 at addr ff11000100000000 by task swapper/0/0"
	for i in $(seq 1 80); do echo "[    1.28]  frame$i+0x1/0x2"; done
} >"$dir/console.log"
out=$(vm_console_tail "$dir" 10)
t_same first-complaint-header "    | [    1.28] BUG: KASAN: wild-memory-access in f+0x1/0x2" \
	"$(echo "$out" | sed -n 2p)"
t_same first-complaint-address \
	"    | [    1.28] Write of size 4 at addr ff11000100000000 by task swapper/0/0" \
	"$(echo "$out" | sed -n 3p)"
# 25 lines of the complaint, then the marker
t_same first-complaint-bounded 26 \
	"$(echo "$out" | grep -n '^    | \[\.\.\.\]$' | cut -d: -f1)"
t_same tail-after "    | [    1.28]  frame80+0x1/0x2" "$(echo "$out" | tail -n 1)"
t_same tail-length 10 "$(echo "$out" | sed -n '/^    | \[\.\.\.\]$/,$p' | sed 1d | wc -l)"

printf 'a\r\nb\r\nc\r\n' >"$dir/console.log"
t_same no-complaint-tail-only "$(printf '    | b\n    | c')" "$(vm_console_tail "$dir" 2)"
exit $t_fail
