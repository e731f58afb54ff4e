#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test of the project and end with "N passed, N failed":
#   1. host: tests/host/*.sh (the harness's own logic, the tag core in
#      userspace under ASan/UBSan and TSan, the series), before any kernel
#   2. build: the debug kernel (KASAN, lockdep, dma-debug, kmemleak:
#      config/debug.config) and the initramfs
#   3. kunit: boot the kernel once, parse the KTAP of the KUnit suites
#   4. vm: each tests/vm/NAME.sh in a freshly booted guest with fresh disks,
#      under the timeout its "# timeout: N" line gives (times TIMEOUT_SCALE),
#      with the NVMe controllers its "# disks: N" line asks for (default 4),
#      in the IOMMU mode its "# iommu: MODE" line names (default IOMMU),
#      with the vCPUs its "# smp: N" line asks for (default 2);
#      after it the guest tears down what is left and checks that nothing
#      stayed mapped or leaked and that the kernel log has no complaint
#
# Environment: FLAVOUR=debug (default) or prod, the kernel to build and boot;
# KERNEL=FILE boots that image instead (no build); TESTS="NAME..." runs only
# those VM tests; PHASES="host build kunit vm" (default all); IOMMU=strict
# (default), lazy, pt or off; GUEST_ARGS="dmatag.KEY=VAL ..." for the
# guests' kernel command lines; KEEP=1 keeps the run directories under
# /dev/shm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IOMMU=${IOMMU:-strict}
FLAVOUR=${FLAVOUR:-debug}
PHASES=${PHASES:-host build kunit vm}
case "$FLAVOUR" in
prod) image=$DMATAG_OUT/bzImage; TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
	checker_args= ;;
# the debug kernel has kmemleak: its absence fails kmemleak-clean
*) image=$DMATAG_OUT/bzImage-$FLAVOUR; TIMEOUT_SCALE=${TIMEOUT_SCALE:-2}
	checker_args=dmatag.kmemleak=1 ;;
esac
kernel_args="--kernel ${KERNEL:-$image}"
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
	vm_run "$dir" $((300 * TIMEOUT_SCALE)) --run kunit --disks 1 --iommu "$IOMMU" $kernel_args -- loglevel=7 $checker_args
	cp "$dir/console.log" "$logs/kunit.console.log"
	cp "$dir/ctl.log" "$logs/kunit.ctl.log"
	ktap_parse <"$dir/console.log" >"$logs/kunit.results"
	if [ "$VM_TIMED_OUT" = 1 ] || ! grep -q '^@@END' "$dir/ctl.log"; then
		result fail "kunit: boot" "the guest did not finish"
		vm_console_tail "$dir"
	fi
	# the guest's checks after the suites: kernel log, kmemleak
	ctl_results kunit "$dir/ctl.log"
	grep -q '^@@CASE ok kernel-log-clean' "$dir/ctl.log" ||
		vm_console_tail "$dir"
	if [ ! -s "$logs/kunit.results" ]; then
		result fail "kunit: results" "no KTAP in the kernel log"
		return
	fi
	while read -r verdict name why; do
		result "$verdict" "kunit: $name" "$why"
	done <"$logs/kunit.results"
	# the project's suites ran, whatever kernel was booted (KERNEL=)
	kunit_suites_ran "$logs/kunit.results"
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
		iommu=$(sed -n 's/^# iommu: *\([a-z]*\).*/\1/p' "$t" | head -n 1)
		smp=$(sed -n 's/^# smp: *\([0-9]*\).*/\1/p' "$t" | head -n 1)
		t0=$(date +%s)
		timeout=$((${VM_TIMEOUT:-${timeout:-300}} * TIMEOUT_SCALE))
		vm_run "$runs/$name" "$timeout" --run "test:$name" --iommu "${iommu:-$IOMMU}" --smp "${smp:-2}" \
			--disks "${disks:-4}" $kernel_args -- $checker_args ${GUEST_ARGS:-}
		for f in console ctl host; do
			cp "$runs/$name/$f.log" "$logs/$name.$f.log"
		done
		if [ "$VM_TIMED_OUT" = 1 ]; then
			result fail "vm/$name" "timed out after $timeout s"
		fi
		vm_verdicts "vm/$name" "$runs/$name/ctl.log" \
			"$(sed -n 's/^# cases: *\([0-9]*\).*/\1/p' "$t" | head -n 1)"
		if grep -q "^not ok vm/$name" "$DMATAG_RESULTS" 2>/dev/null; then
			echo "  console of vm/$name (full log: out/check/$name.console.log):"
			vm_console_tail "$runs/$name"
		fi
		log "vm/$name: $(($(date +%s) - t0)) s"
	done
}

# the kernel (unless KERNEL names one) and the initramfs; a failed build is
# a failed case, and nothing boots
phase_build() {
	local out=$logs/build.log
	if { [ -n "${KERNEL:-}" ] || "$DMATAG_ROOT/scripts/build-kernel.sh" "$FLAVOUR"; } \
		>"$out" 2>&1 && make -s -C "$DMATAG_ROOT" initramfs >>"$out" 2>&1; then
		result ok "build: kernel ($FLAVOUR) and initramfs"
	else
		result fail "build: kernel ($FLAVOUR) and initramfs" "see out/check/build.log"
		tail -n 30 "$out" >&2
		return 1
	fi
}

has_phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }

need_packages $HOST_PACKAGES
t_all=$(date +%s)
# the host tests use the kernel tree's checkpatch and kernel-doc
if has_phase host || has_phase build; then
	( step "kernel source" pristine_unpack ) ||
		result fail "setup: kernel source" "cannot unpack $KERNEL_TARBALL"
fi
! has_phase host || step "host tests" phase_host
built=1
! has_phase build || step "build ($FLAVOUR)" phase_build || built=0
if [ "$built" = 1 ]; then
	! has_phase kunit || step "kunit ($FLAVOUR)" phase_kunit
	! has_phase vm || step "vm tests ($FLAVOUR, iommu $IOMMU)" phase_vm
fi
log "all tests: $(($(date +%s) - t_all)) s"
results_summary
