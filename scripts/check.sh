#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test of the project and end with "N passed, N failed":
#   1. host: tests/host/*.sh (the harness's own logic, no VM)
#   2. kunit: boot the kernel once, parse the KTAP of the KUnit suites
#   3. vm: each tests/vm/NAME.sh in a freshly booted guest with fresh disks,
#      under the timeout its "# timeout: N" line gives, with the NVMe
#      controllers its "# disks: N" line asks for (default 4)
# Expects out/bzImage and out/initramfs.cpio.gz (the Makefile builds them).
#
# Environment: TESTS="NAME..." runs only those VM tests; IOMMU=strict (default),
# lazy, pt or off; KEEP=1 keeps the run directories under /dev/shm;
# KERNEL=FILE boots another image (a debug flavour: out/bzImage-debug).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IOMMU=${IOMMU:-strict}
kernel_args=
[ -z "${KERNEL:-}" ] || kernel_args="--kernel $KERNEL"
logs=$DMATAG_OUT/check
mkdir -p "$logs"
rm -f "$DMATAG_RESULTS"
runs=$(mktemp -d /dev/shm/dmatag-check.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$runs"' EXIT

# A test program's own "ok - NAME" / "not ok - NAME # WHY" lines as results.
collect_tap() { # collect_tap PREFIX < OUTPUT
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) result ok "$1: ${line#ok - }" ;;
		"not ok - "*)
			rest=${line#not ok - }
			result fail "$1: ${rest%% \#*}" "${rest#* \# }" ;;
		esac
	done
}

phase_host() {
	for t in "$DMATAG_ROOT"/tests/host/*.sh; do
		name=host/$(basename "$t" .sh)
		out=$logs/$(basename "$t" .sh).host.log
		if ! bash "$t" >"$out" 2>&1; then
			grep -q '^not ok' "$out" ||
				result fail "$name" "exited non-zero: $(tail -n 1 "$out")"
		fi
		collect_tap "$name" <"$out"
	done
}

phase_kunit() {
	dir=$runs/kunit
	vm_run "$dir" 300 --run kunit --disks 1 --iommu "$IOMMU" $kernel_args -- loglevel=7
	cp "$dir/console.log" "$logs/kunit.console.log"
	ktap_parse <"$dir/console.log" >"$logs/kunit.results"
	if [ "$VM_TIMED_OUT" = 1 ] || ! grep -q '^@@END' "$dir/ctl.log"; then
		result fail "kunit: boot" "the guest did not finish"
		vm_console_tail "$dir"
	fi
	if [ ! -s "$logs/kunit.results" ]; then
		result fail "kunit: results" "no KTAP in the kernel log"
		return
	fi
	while read -r verdict name why; do
		result "$verdict" "kunit: $name" "$why"
	done <"$logs/kunit.results"
}

vm_tests() {
	if [ -n "${TESTS:-}" ]; then
		for t in $TESTS; do echo "$DMATAG_ROOT/tests/vm/$t.sh"; done
	else
		ls "$DMATAG_ROOT"/tests/vm/*.sh
	fi
}

phase_vm() {
	for t in $(vm_tests); do
		name=$(basename "$t" .sh)
		if [ ! -f "$t" ]; then
			result fail "vm/$name" "no such test"
			continue
		fi
		timeout=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -n 1)
		disks=$(sed -n 's/^# disks: *\([0-9]*\).*/\1/p' "$t" | head -n 1)
		t0=$(date +%s)
		vm_run "$runs/$name" "${timeout:-300}" --run "test:$name" --iommu "$IOMMU" \
			--disks "${disks:-4}" $kernel_args
		for f in console ctl host; do
			cp "$runs/$name/$f.log" "$logs/$name.$f.log"
		done
		tr -d '\r' <"$runs/$name/ctl.log" | sed -n 's/^@@CASE //p' >"$runs/$name.cases"
		while read -r verdict case why; do
			result "$verdict" "vm/$name: $case" "$why"
		done <"$runs/$name.cases"
		if [ "$VM_TIMED_OUT" = 1 ]; then
			result fail "vm/$name" "timed out after ${timeout:-300} s"
		elif ! grep -q '^@@END' "$runs/$name/ctl.log"; then
			result fail "vm/$name" "the guest stopped before the test ended"
		elif [ ! -s "$runs/$name.cases" ]; then
			result fail "vm/$name" "no test case reported"
		fi
		if grep -q "^not ok vm/$name" "$DMATAG_RESULTS" 2>/dev/null; then
			echo "  console of vm/$name (full log: out/check/$name.console.log):"
			vm_console_tail "$runs/$name"
		fi
		log "vm/$name: $(($(date +%s) - t0)) s"
	done
}

t_all=$(date +%s)
step "host tests" phase_host
step "kunit" phase_kunit
step "vm tests (iommu $IOMMU)" phase_vm
log "all tests: $(($(date +%s) - t_all)) s"
results_summary
