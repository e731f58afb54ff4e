#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tag core (block/blk-dma-tag.c, block/blk-dma-tag-disk.c) in userspace
# (tools/testing/dma-tag, liburcu for RCU), before any kernel is built:
#   tag-core-test  the locate rule against a brute-force model, error paths,
#                  prep and merges (ASan/UBSan)
#   stress-asan    membership changes, surprise removals, dm table swaps and
#   stress-tsan    map/unmap against concurrent IO, with allocation failures
#                  injected, under ASan/UBSan/LSan and under ThreadSanitizer
#   can-fail.sh    each retirement check against the mutant of the core it
#                  is there to catch
# A sanitizer report or a hang fails the program that produced it.
# TAG_CORE_SEED, TAG_CORE_TRIALS, TAG_CORE_STRESS_MS change the run.
set -uo pipefail
dir=$(cd "$(dirname "$0")/../../tools/testing/dma-tag" && pwd)
seed=${TAG_CORE_SEED:-0x5eed1234abcd}
ms=${TAG_CORE_STRESS_MS:-2000}
if ! make -s -C "$dir" >/dev/null; then
	echo "not ok - tag-core-build # tools/testing/dma-tag does not build"
	exit 1
fi
export TSAN_OPTIONS="suppressions=$dir/tsan.supp halt_on_error=1 exitcode=66"
export ASAN_OPTIONS="detect_leaks=1"
rc=0

# run NAME PREFIX CMD...: its TAP lines (prefixed), a sanitizer report or a
# non-zero exit without a "not ok" line as one more failure
run() {
	local name=$1 prefix=$2 out status
	shift 2
	out=$(mktemp)
	timeout 120 "$@" >"$out" 2>&1
	status=$?
	sed -n "s/^\(not \)\{0,1\}ok - /&$prefix/p; /^# /p" "$out"
	if [ "$status" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - $name # exit $status: $(grep -m 1 -E 'ERROR|WARNING: ThreadSanitizer|BUG|runtime error' "$out")"
		tail -n 40 "$out" >&2
	fi
	[ "$status" -eq 0 ] || rc=1
	rm -f "$out"
}

run tag-core-test "" "$dir/tag-core-test" "$seed" "${TAG_CORE_TRIALS:-20000}"
run stress-asan "asan: " "$dir/stress-asan" "$seed" "$ms"
run stress-tsan "tsan: " "$dir/stress-tsan" "$seed" "$ms"
# every retirement check fails on the mutant of the core it is there for
# (TAG_CORE_MUTANTS=0 skips them: about 90 s)
if [ "${TAG_CORE_MUTANTS:-1}" != 0 ]; then
	out=$(mktemp)
	timeout 600 "$dir/can-fail.sh" >"$out" 2>&1
	status=$?
	sed -n 's/^\(not \)\{0,1\}ok - /&can-fail: /p; /^#   /p' "$out"
	if [ "$status" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - can-fail # exit $status"
		tail -n 20 "$out" >&2
	fi
	[ "$status" -eq 0 ] || rc=1
	rm -f "$out"
fi
exit $rc
