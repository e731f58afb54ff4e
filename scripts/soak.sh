#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: the long forms of the soak and fuzz VM tests on the debug kernel
# (KASAN, lockdep, dma-debug, kmemleak). make check runs the same tests in
# their short forms.
#   SOAK_ROUNDS (default 10)   rounds of member changes (tests/vm/soak.sh)
#   FUZZ_ITERS (default 20000) fuzzer steps (tests/vm/fuzz.sh)
#   FUZZ_SEED                  the fuzzer's seed (default: the check's)
# Result: out/soak/report.txt (the soak report line, the fuzzer's summary
# and errno table, every case) and the usual "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=${SOAK_ROUNDS:-10}
iters=${FUZZ_ITERS:-20000}
args="dmatag.soak_rounds=$rounds dmatag.fuzz_iters=$iters"
[ -z "${FUZZ_SEED:-}" ] || args="$args dmatag.fuzz_seed=$FUZZ_SEED"
out=$DMATAG_OUT/soak
mkdir -p "$out"
# about 3 minutes a round and 1 minute per 1000 fuzzer steps on the debug
# kernel under TCG, with room to spare
timeout=$((600 + rounds * 400 + iters / 1000 * 120))
rc=0
PHASES=vm TESTS="soak fuzz" GUEST_ARGS="$args" VM_TIMEOUT=$timeout TIMEOUT_SCALE=1 \
	DMATAG_RESULTS=$out/results "$DMATAG_ROOT/scripts/check.sh" | tee "$out/check.log" || rc=$?
{
	echo "# make soak, $(date -u +%Y-%m-%d), debug kernel, $rounds rounds, $iters fuzzer steps"
	grep -h 'SOAK REPORT' "$DMATAG_OUT/check/soak.console.log" | sed 's/^\[[^]]*\] //'
	grep -h -E 'fuzz: (# |errno )' "$DMATAG_OUT/check/fuzz.console.log" | sed 's/^\[[^]]*\] //'
	grep -E '^(ok|not ok)' "$out/check.log"
	tail -n 1 "$out/check.log"
} >"$out/report.txt"
log "report: $out/report.txt"
exit "$rc"
