#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check's merge of a VM test's output into the run's results
# (vm_merge: cases renumbered after those already counted, failures with
# their reasons, skips, a failed runner, other lines passed on, the time
# kept for the pool's order) and the pool's order (vm_pool_order: longest
# of the last run first, tests never timed before them, ties in order).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RUNS=$tmp VM_TIMES=$tmp/times DMATAG_RESULTS=$tmp/results
log() { :; }

printf 'ok host/x: before\n' >"$DMATAG_RESULTS"
printf '%s\n' 'ok 1 - vm/a: create' \
	'not ok 2 - vm/a: share-before # failed: share_at_least before md0 0 0 100' \
	'  console of vm/a (full log: out/check/a.console.log):' \
	'    | [12.5] not ok - share-before' \
	'not ok 3 - vm/a: bare' \
	'ok 4 - vm/a: raid6 # SKIP no raid6 here' \
	'ok 5 - vm/a: name - with - dashes' \
	'@@TIME a 125 150' >"$tmp/a.out"
out=$(vm_merge a 0)
t_same merge-renumbered "ok 2 - vm/a: create
not ok 3 - vm/a: share-before # failed: share_at_least before md0 0 0 100
  console of vm/a (full log: out/check/a.console.log):
    | [12.5] not ok - share-before
not ok 4 - vm/a: bare
ok 5 - vm/a: raid6 # SKIP no raid6 here
ok 6 - vm/a: name - with - dashes" "$out"
t_same merge-results "ok host/x: before
ok vm/a: create
not ok vm/a: share-before
not ok vm/a: bare
skip vm/a: raid6
ok vm/a: name - with - dashes" "$(cat "$DMATAG_RESULTS")"
t_same merge-time-kept "a 125" "$(cat "$VM_TIMES")"

# a runner that failed: a case of its own; the time of a rerun replaces
# the old one
printf '%s\n' 'ok 1 - vm/b: one' '@@TIME b 40 41' >"$tmp/b.out"
out=$(vm_merge b 3)
t_same merge-runner-failed "ok 7 - vm/b: one
not ok 8 - vm/b # its runner exited with 3" "$out"
printf '%s\n' 'ok 1 - vm/a: create' '@@TIME a 90 99' >"$tmp/a.out"
vm_merge a 0 >/dev/null
t_same merge-time-replaced "b 40
a 90" "$(cat "$VM_TIMES")"
# no @@TIME line (the runner died): nothing recorded
printf '%s\n' 'ok 1 - vm/c: one' >"$tmp/c.out"
vm_merge c 0 >/dev/null
t_same merge-no-time "b 40
a 90" "$(cat "$VM_TIMES")"

t_same pool-order "/t/new.sh
/t/other.sh
/t/a.sh
/t/b.sh" "$(vm_pool_order /t/b.sh /t/new.sh /t/a.sh /t/other.sh)"

printf '# SPDX\n# timeout: 900\n# alone: yes\n# cases: 12\n' >"$tmp/t.sh"
t_same header-alone yes "$(test_header "$tmp/t.sh" alone)"
t_same header-timeout 900 "$(test_header "$tmp/t.sh" timeout)"
t_same header-missing "" "$(test_header "$tmp/t.sh" smp)"
exit $t_fail
