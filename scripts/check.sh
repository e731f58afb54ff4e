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
#      with the vCPUs its "# smp: N" line asks for (default 2), one after
#      the other (VM_JOBS=2: two at a time but for the tests whose
#      "# alone: yes" line says they compare times);
#      after it the guest tears down what is left and checks that nothing
#      stayed mapped or leaked and that the kernel log has no complaint
#
# Environment: FLAVOUR=debug (default) or prod, the kernel to build and boot;
# KERNEL=FILE boots that image instead (no build); TESTS="NAME..." runs only
# those VM tests; VM_JOBS=N guests at a time (default 1); VM_MEM=SIZE the
# guests' memory (default 1G); PHASES="host
# build kunit vm" (default all); IOMMU=strict
# (default), lazy, pt or off; GUEST_ARGS="dmatag.KEY=VAL ..." for the
# guests' kernel command lines; KEEP=1 keeps the run directories under
# /dev/shm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IOMMU=${IOMMU:-strict}
FLAVOUR=${FLAVOUR:-debug}
# the guests' memory (scripts/vm.sh, whose own default is 2G): every test
# passes in 1 GiB, and kmemleak's scans and the boot take less
export VM_MEM=${VM_MEM:-1G}
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

# the CPU time of this shell's children that ended, in clock ticks (QEMU's
# threads and the helpers of vm_run): against the wall time, how busy a
# guest kept the host (PID: the shell, $BASHPID, not that of a $(...))
child_cpu() { # child_cpu PID
	awk '{ print $16 + $17 }' "/proc/$1/stat"
}

vm_tests() {
	if [ -n "${TESTS:-}" ]; then
		for t in $TESTS; do echo "$DMATAG_ROOT/tests/vm/$t.sh"; done
	else
		ls "$DMATAG_ROOT"/tests/vm/*.sh
	fi
}

# vm_one TEST: boot a guest for the test and collect its verdicts, as
# "ok N - NAME" lines (numbered from 1 in its own results file) on stdout
vm_one() {
	local t=$1 name timeout disks iommu smp t0 c0 me=$BASHPID
	name=$(basename "$t" .sh)
	DMATAG_RESULTS=$runs/$name.results
	rm -f "$DMATAG_RESULTS"
	timeout=$(test_header "$t" timeout)
	disks=$(test_header "$t" disks)
	iommu=$(test_header "$t" iommu)
	smp=$(test_header "$t" smp)
	t0=$(date +%s) c0=$(child_cpu "$me")
	timeout=$((${VM_TIMEOUT:-${timeout:-300}} * TIMEOUT_SCALE))
	vm_run "$runs/$name" "$timeout" --run "test:$name" --iommu "${iommu:-$IOMMU}" --smp "${smp:-2}" \
		--disks "${disks:-4}" $kernel_args -- $checker_args ${GUEST_ARGS:-}
	for f in console ctl host; do
		cp "$runs/$name/$f.log" "$logs/$name.$f.log"
	done
	if [ "$VM_TIMED_OUT" = 1 ]; then
		result fail "vm/$name" "timed out after $timeout s"
	fi
	vm_verdicts "vm/$name" "$runs/$name/ctl.log" "$(test_header "$t" cases)"
	if grep -q "^not ok vm/$name" "$DMATAG_RESULTS" 2>/dev/null; then
		echo "  console of vm/$name (full log: out/check/$name.console.log):"
		vm_console_tail "$runs/$name"
	fi
	echo "@@TIME $name $(($(date +%s) - t0)) $((($(child_cpu "$me") - c0) / $(getconf CLK_TCK)))"
}

# Each test in its own guest, one after the other (VM_JOBS=1, the default).
# VM_JOBS=2 runs two guests at a time but for a test whose "# alone: yes"
# line says that it compares times (teardown within so many cs of off, a
# removal within 2x, a detector's timeout, map time scaling, path lengths):
# it runs with no other guest; the others start longest first (the times of
# the last run, VM_TIMES). On this project's 2-CPU machine that does not
# pay: alone a guest keeps 1.1-1.4 CPUs busy, but two at a time each test
# took 1.3-2.7x its time alone: the VM tests 70 min against an estimated
# 53 one at a time (2026-12-03). It is for a host with more CPUs.
# vm_reap: wait for one of phase_vm's running tests, merge its output
vm_reap() {
	local done_pid
	wait -n -p done_pid "${!running[@]}"
	vm_merge "${running[$done_pid]}" $?
	unset "running[$done_pid]"
}

phase_vm() {
	local jobs=${VM_JOBS:-1} t name alone= pool=
	local -A running=()
	[ "$jobs" -ge 1 ] || jobs=1
	VM_TIMES=$DMATAG_CACHE/vm-times-$FLAVOUR RUNS=$runs
	mkdir -p "$DMATAG_CACHE"
	for t in $(vm_tests); do
		name=$(basename "$t" .sh)
		if [ ! -f "$t" ]; then
			result fail "vm/$name" "no such test"
		elif [ "$jobs" = 1 ] || [ "$(test_header "$t" alone)" = yes ]; then
			alone="$alone $t"
		else
			pool="$pool $t"
		fi
	done
	for t in $alone; do
		name=$(basename "$t" .sh)
		(vm_one "$t") >"$runs/$name.out" 2>&1
		vm_merge "$name" $?
	done
	for t in $(vm_pool_order $pool); do
		while [ "${#running[@]}" -ge "$jobs" ]; do vm_reap; done
		name=$(basename "$t" .sh)
		vm_one "$t" >"$runs/$name.out" 2>&1 &
		running[$!]=$name
	done
	while [ "${#running[@]}" -gt 0 ]; do vm_reap; done
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
