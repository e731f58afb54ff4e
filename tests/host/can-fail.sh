#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every check can fail: each check of the harness that once could not is
# fed the input it must reject, on the host (captured guest output, fake
# sysfs files), and must say "fail":
#   kmemleak-clean      a report on a debugfs file of size 0, a kmemleak
#                       that refuses the scan, none on the debug kernel
#   exactly_zero        2 stray dma_map calls in 4096 IOs (0.000 per IO)
#   nested_premapped    a nested run whose inner device premapped nothing
#   vm_verdicts         a test that exits after its first case, dies, exits
#                       non-zero or reports fewer cases than it declares
#   kernel-log-clean    a KASAN report (what the KUnit boot now checks)
#   kunit_suites_ran    a KUnit log without one of the project's suites
#   series.sh           no checkpatch.pl
#   dmatag_balanced     counters that cannot be read (tools/dmatag.h)
#   dmatag-fsrace       poison, torn blocks, another block, zeroes for data
#                       and a flipped bit (its --selftest)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
DMATAG_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the guest library, its verdicts to a file instead of ttyS1
(
	CTL=$tmp/ctl
	. "$DMATAG_ROOT/tests/guest/lib.sh"
	CTL=$tmp/ctl GUEST_TMP=$tmp KMEMLEAK_WAIT=0
	say() { :; }
	verdict() { # verdict CASE: the last verdict line CASE got
		sed -n "s/^@@CASE \([a-z]*\) $1\( .*\)*$/\1/p" "$CTL" | tail -n 1
	}

	# kmemleak: debugfs reports size 0 whatever the file holds; /proc
	# files do the same, and test -s was the check
	t_check kmemleak-proc-file-has-size-0 test ! -s /proc/self/status
	printf 'unreferenced object 0xffff888004c1a000 (size 64):\n  comm "kunit", pid 1, jiffies 4294892296\n' |
		kmemleak_report >/dev/null
	t_same kmemleak-report-fails "fail" "$(verdict kmemleak-clean)"
	kmemleak_report </dev/null >/dev/null
	t_same kmemleak-empty-passes "ok" "$(verdict kmemleak-clean)"
	# disabled: the scan is refused (a directory refuses it too)
	KMEMLEAK=$tmp kmemleak_check 2>/dev/null
	t_same kmemleak-scan-refused-fails "fail" "$(verdict kmemleak-clean)"
	# none, where the host says the kernel has it
	cmdline_arg() { [ "$1" = kmemleak ] && echo 1; }
	: >"$CTL"
	KMEMLEAK=$tmp/none kmemleak_check
	t_same kmemleak-missing-on-debug-fails "fail" "$(verdict kmemleak-clean)"
	cmdline_arg() { :; }
	: >"$CTL"
	KMEMLEAK=$tmp/none kmemleak_check
	t_same kmemleak-missing-elsewhere-skips "" "$(verdict kmemleak-clean)"

	# 2 stray calls in 4096 IOs print as 0.000 per IO, which near once
	# took for "exactly 0"
	t_same per-io-rounds-2-in-4096 "0.000" "$(per_io 2 4096)"
	t_check near-refuses-zero eval '! near 0.000 0'
	t_check exactly-zero-2-fails eval '! exactly_zero 2'
	t_check exactly-zero-empty-fails eval '! exactly_zero ""'
	t_check exactly-zero-0 exactly_zero 0

	# nested: INNER's counters before and now, TOP's before and now
	share() { eval "echo \$share_$1"; }
	share_inner="500 0" share_top="100 0"
	t_check nested-inner-nothing-fails eval '! nested_premapped inner "500 0" top "0 0"'
	share_inner="500 3"
	t_check nested-inner-fallback-fails eval '! nested_premapped inner "300 0" top "0 0"'
	share_inner="500 0" share_top="0 0"
	t_check nested-top-nothing-fails eval '! nested_premapped inner "100 0" top "0 0"'
	share_top="100 0"
	t_check nested-split-passes nested_premapped inner "300 0" top "0 0"

	# a KASAN report in the kernel log (a KUnit boot now checks it)
	dmesg() { printf '[    3.1] ok 1 - blk-dma-tag\n[    3.2] BUG: KASAN: slab-out-of-bounds in tag_merges_refused+0x1c/0x80\n'; }
	kernel_log_clean >/dev/null
	t_same kernel-log-kasan-fails "fail" "$(verdict kernel-log-clean)"
	dmesg() { printf '[    3.1] ok 1 - blk-dma-tag\n'; }
	kernel_log_clean >/dev/null
	t_same kernel-log-clean-passes "ok" "$(verdict kernel-log-clean)"
	exit $t_fail
) || t_fail=1

# vm_verdicts on control logs of runs that went wrong
(
	. "$DMATAG_ROOT/scripts/lib.sh"
	DMATAG_RESULTS=$tmp/results
	after='@@CASE ok teardown-mapped-bytes-zero
@@CASE ok kernel-log-clean'
	complete() { # complete CTL PLAN: the verdict of "t: complete"
		rm -f "$DMATAG_RESULTS"
		printf '%s\n' "$1" >"$tmp/ctl.log"
		vm_verdicts t "$tmp/ctl.log" "$2" >/dev/null
		sed -n 's/^\(ok\|not ok\) t: complete$/\1/p' "$DMATAG_RESULTS"
	}
	t_same verdicts-whole-run "ok" "$(complete "@@CASE ok a
@@CASE ok b
@@RAN
$after
@@END 0" 2)"
	t_same verdicts-exit-after-first-case "not ok" "$(complete "@@CASE ok a
$after
@@END 0" 2)"
	t_same verdicts-died-half-way "not ok" "$(complete "@@CASE ok a
$after
@@END 2" 2)"
	t_same verdicts-fewer-than-declared "not ok" "$(complete "@@CASE ok a
@@RAN
$after
@@END 0" 2)"
	t_same verdicts-no-after-test "not ok" "$(complete "@@CASE ok a
@@CASE ok b
@@RAN" 2)"
	t_same verdicts-guest-status "not ok" "$(complete "@@CASE ok a
@@CASE ok b
@@RAN
$after
@@END 3" 2)"
	t_same verdicts-no-end "not ok" "$(complete "@@CASE ok a
@@CASE ok b
@@RAN
$after" 2)"
	t_same verdicts-no-plan-no-case "not ok" "$(complete "@@RAN
$after
@@END 0" "")"
	t_same verdicts-crlf "ok" "$(complete "$(printf '@@CASE ok a\r\n@@RAN\r\n%s\r\n@@END 0\r' "$after")" 1)"

	# the project's KUnit suites must each show up in the KTAP results
	printf 'ok blk-dma-tag.a\nok blk-dma-tag-stack.b\n' >"$tmp/kunit.results"
	rm -f "$DMATAG_RESULTS"
	kunit_suites_ran "$tmp/kunit.results" >/dev/null
	t_same kunit-suite-missing-fails "not ok kunit: suite blk-dma-tag-disk ran" \
		"$(grep 'blk-dma-tag-disk ran' "$DMATAG_RESULTS")"
	t_same kunit-suites-listed "3" "$(kunit_suites | grep -c '^blk-dma-tag')"
	exit $t_fail
) || t_fail=1

# series.sh without checkpatch: every patch's checkpatch case fails
CHECKPATCH=$tmp/no-checkpatch.pl bash "$DMATAG_ROOT/tests/host/series.sh" >"$tmp/series.log" 2>&1
n_patches=$(grep -c -- '-numbered$' "$tmp/series.log")
t_check series-patches-listed test "$n_patches" -gt 0
t_same series-no-checkpatch-fails-each "$n_patches" \
	"$(grep -c '^not ok - .*-checkpatch # checkpatch did not check it' "$tmp/series.log")"

# tools/dmatag.h: counters that cannot be read are not "no leak"
if gcc -O2 -Wall -Wextra -Werror -o "$tmp/dmatag-h-test" \
	"$DMATAG_ROOT/tools/testing/dmatag-tools/dmatag-h-test.c"; then
	mkdir "$tmp/disk"
	"$tmp/dmatag-h-test" "$tmp/disk" || t_fail=1
else
	echo "not ok - dmatag-h-test-builds"
	t_fail=1
fi

# tools/dmatag-fsrace.c: the block checks of the truncate race test
if gcc -O2 -Wall -Wextra -Werror -o "$tmp/dmatag-fsrace" \
	"$DMATAG_ROOT/tools/dmatag-fsrace.c" -luring; then
	"$tmp/dmatag-fsrace" --selftest >"$tmp/fsrace.log" || t_fail=1
	sed -e 's/^ok /ok - fsrace-/' -e 's/^not ok /not ok - fsrace-/' "$tmp/fsrace.log"
	grep -q '^ok selftest-flipped-bit' "$tmp/fsrace.log" || t_fail=1
else
	echo "not ok - dmatag-fsrace-builds"
	t_fail=1
fi
exit $t_fail
