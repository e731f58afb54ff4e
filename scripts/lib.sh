# SPDX-License-Identifier: GPL-2.0
# Shared shell functions for the dmatag harness. Sourced, never run.
# Every script of the harness sources this file; keep one copy of each job here.

# Where the repo is, where the long-lived caches live (outside the repo so that
# a fresh clone, and CI, reuse what an earlier run built).
DMATAG_ROOT=${DMATAG_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
DMATAG_CACHE=${DMATAG_CACHE:-$HOME/.cache/dmatag}
DMATAG_OUT=${DMATAG_OUT:-$DMATAG_ROOT/out}
KERNEL_VERSION=6.1.192
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
PRISTINE=$DMATAG_CACHE/linux-$KERNEL_VERSION
SRCTREE=$DMATAG_CACHE/src
export DMATAG_ROOT DMATAG_CACHE DMATAG_OUT

# The directories of the repo that hold new kernel files at their kernel path.
OVERLAY_DIRS="block drivers include io_uring lib Documentation"

log() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

# step NAME CMD...: run CMD, say what it is doing and how long it took.
step() {
	_step_name=$1
	shift
	log "$_step_name ..."
	_step_t0=$(date +%s)
	if "$@"; then _step_rc=0; else _step_rc=$?; fi
	log "$_step_name: $(($(date +%s) - _step_t0)) s (rc $_step_rc)"
	return $_step_rc
}

# Install Debian packages that are missing; quiet when all are there.
need_packages() {
	_missing=
	for _p in "$@"; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q 'ok installed' ||
			_missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	log "installing:$_missing"
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages:$_missing (run as root or install them)"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $_missing >/dev/null ||
		die "apt-get install failed for:$_missing"
}

# Everything the build, the VM and the tests need on the host.
HOST_PACKAGES="linux-source-6.1 build-essential bc bison flex libelf-dev
libssl-dev cpio xz-utils ccache kmod rsync python3 qemu-system-x86
busybox-static dmsetup mdadm fio liburing-dev git sparse liburcu-dev
e2fsprogs xfsprogs xfslibs-dev"

# The pristine kernel tree: Debian's tarball unpacked once into the cache,
# read-only. The host tests use its scripts (checkpatch, kernel-doc), the
# build its sources.
pristine_unpack() {
	[ -f "$PRISTINE/.dmatag-unpacked" ] && return 0
	[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing (package linux-source-6.1)"
	rm -rf "$PRISTINE" "$PRISTINE.tmp" "$SRCTREE"
	mkdir -p "$PRISTINE.tmp"
	tar -C "$PRISTINE.tmp" --strip-components=1 -xf "$KERNEL_TARBALL"
	grep -q '^SUBLEVEL = 192$' "$PRISTINE.tmp/Makefile" ||
		die "$KERNEL_TARBALL is not $KERNEL_VERSION"
	touch "$PRISTINE.tmp/.dmatag-unpacked"
	chmod -R a-w "$PRISTINE.tmp"
	mv "$PRISTINE.tmp" "$PRISTINE"
}

# Result bookkeeping shared by every phase of `make check`: one line per
# case in $DMATAG_RESULTS, printed as TAP with a running number.
DMATAG_RESULTS=${DMATAG_RESULTS:-$DMATAG_OUT/check/results}
export DMATAG_RESULTS

result() { # result ok|fail|skip NAME [DETAIL]
	mkdir -p "$(dirname "$DMATAG_RESULTS")"
	_n=$(($(wc -l 2>/dev/null <"$DMATAG_RESULTS" || echo 0) + 1))
	case "$1" in
	ok)
		echo "ok $2" >>"$DMATAG_RESULTS"
		printf 'ok %d - %s\n' "$_n" "$2" ;;
	skip)
		echo "skip $2" >>"$DMATAG_RESULTS"
		printf 'ok %d - %s # SKIP %s\n' "$_n" "$2" "${3:-}" ;;
	*)
		echo "not ok $2" >>"$DMATAG_RESULTS"
		printf 'not ok %d - %s%s\n' "$_n" "$2" "${3:+ # $3}" ;;
	esac
}

# The closing line; true only when something passed and nothing failed.
results_summary() {
	_pass=$(grep -c '^ok ' "$DMATAG_RESULTS" 2>/dev/null) || true
	_fail=$(grep -c '^not ok ' "$DMATAG_RESULTS" 2>/dev/null) || true
	_skip=$(grep -c '^skip ' "$DMATAG_RESULTS" 2>/dev/null) || true
	if [ "${_skip:-0}" -gt 0 ]; then
		echo "${_pass:-0} passed, ${_fail:-0} failed, ${_skip} skipped"
	else
		echo "${_pass:-0} passed, ${_fail:-0} failed"
	fi
	[ "${_fail:-0}" -eq 0 ] && [ "${_pass:-0}" -gt 0 ]
}

# ktap_parse < CONSOLE: the KUnit results in a kernel log (6.1 KTAP), one
# line per case: "ok SUITE.CASE", "fail SUITE.CASE", "skip SUITE.CASE REASON".
# A suite that planned more cases than it reported (a crash) or reported
# none yields "fail SUITE.(missing)".
ktap_parse() {
	tr -d '\r' | sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' | awk '
	function close_suite() {
		if (suite != "" && seen < plan)
			print "fail " suite ".(missing) " plan - seen " of " plan " cases not reported"
		suite = ""
	}
	/^    # Subtest: / { close_suite(); suite = $3; plan = 0; seen = 0; next }
	/^    1\.\.[0-9]+$/ && suite != "" { plan = substr($1, 4) + 0; next }
	/^    (not )?ok [0-9]+ / && suite != "" {
		notok = ($1 == "not"); name = notok ? $4 : $3
		seen++
		if ($0 ~ / # SKIP/) { r = $0; sub(/.* # SKIP ?/, "", r); print "skip " suite "." name " " r }
		else print (notok ? "fail " : "ok ") suite "." name
		next
	}
	/^(not )?ok [0-9]+ / { close_suite(); next }
	END { close_suite() }'
}

# kunit_suites: the KUnit suites the overlay defines (.name of each
# struct kunit_suite in a *-test.c)
kunit_suites() {
	local d
	for d in $OVERLAY_DIRS; do
		[ -d "$DMATAG_ROOT/$d" ] && find "$DMATAG_ROOT/$d" -name '*-test.c'
	done | sort | xargs -r awk '
		/^static struct kunit_suite / { s = 1 }
		s && /\.name = "/ { sub(/.*\.name = "/, ""); sub(/".*/, ""); print; s = 0 }'
}

# kunit_suites_ran RESULTS: one case per suite of kunit_suites, which fails
# unless RESULTS (ktap_parse's) has a passing case of it
kunit_suites_ran() {
	local suite
	for suite in $(kunit_suites); do
		if grep -q "^ok $suite\." "$1"; then
			result ok "kunit: suite $suite ran"
		else
			result fail "kunit: suite $suite ran" "no passing case of $suite in the KTAP"
		fi
	done
}

# ctl_results NAME CTL_LOG: each "@@CASE ok|fail CASE [WHY]" line of a guest's
# control log as the result "NAME: CASE"
ctl_results() {
	tr -d '\r' <"$2" | sed -n 's/^@@CASE //p' | while read -r verdict case why; do
		result "$verdict" "$1: $case" "$why"
	done
}

# vm_verdicts NAME CTL_LOG [PLAN]: the results of one guest run from its
# control log. Every @@CASE line is a case; then the case NAME: complete,
# which fails unless the test script ran to its end (@@RAN: it did not exit
# or die half way), it reported at least PLAN cases of its own (the
# "# cases: N" line of the test; before @@RAN), the checks after the test
# reported (kernel-log-clean), and the guest said @@END 0.
vm_verdicts() {
	local name=$1 ctl=$2 plan=${3:-1} own end why=
	ctl_results "$name" "$ctl"
	tr -d '\r' <"$ctl" >"$ctl.clean"
	own=$(sed -n '/^@@RAN/q; /^@@CASE /p' "$ctl.clean" | grep -c '') || true
	end=$(sed -n 's/^@@END \([0-9]*\).*/\1/p' "$ctl.clean" | head -n 1)
	if ! grep -qx '@@RAN' "$ctl.clean"; then
		why="the test script stopped before its end"
	elif [ "$own" -lt "$plan" ]; then
		why="$own of the $plan cases it declares reported"
	elif ! grep -q '^@@CASE [a-z]* kernel-log-clean' "$ctl.clean"; then
		why="the checks after the test did not report"
	elif [ -z "$end" ]; then
		why="the guest stopped before the end"
	elif [ "$end" != 0 ]; then
		why="the guest ended with status $end"
	fi
	rm -f "$ctl.clean"
	if [ -n "$why" ]; then
		result fail "$name: complete" "$why"
	else
		result ok "$name: complete"
	fi
}

# --- the VM -------------------------------------------------------------------
VM_DISK_SIZE=${VM_DISK_SIZE:-1G}

# vm_request DIR REQUEST: carry out one guest request ("unplug nvI", "plug nvI")
# on the VM's QMP socket; its output goes to DIR/host.log.
vm_request() {
	set -- "$1" $2
	case "$2:${3:-}" in
	unplug:nv[0-9]*)
		python3 "$DMATAG_ROOT/scripts/qmp.py" "$1/qmp.sock" unplug "$3" ;;
	plug:nv[0-9]*)
		_img=$1/$3-$(date +%s%N).img
		truncate -s "$VM_DISK_SIZE" "$_img"
		python3 "$DMATAG_ROOT/scripts/qmp.py" "$1/qmp.sock" plug "$3" "rp${3#nv}" "$_img" ;;
	*) echo "unknown request: $*"; false ;;
	esac
}

# vm_run DIR TIMEOUT [vm.sh ARGS...]: boot the VM with its run directory DIR,
# serve the guest's requests from DIR/ctl.log, stop it when it says @@END,
# when QEMU exits or after TIMEOUT seconds (then VM_TIMED_OUT=1 and QEMU is
# killed). The caller reads DIR/console.log and DIR/ctl.log.
vm_run() {
	_dir=$1 _timeout=$2
	shift 2
	mkdir -p "$_dir"
	: >"$_dir/ctl.log"
	: >"$_dir/console.log"
	: >"$_dir/host.log"
	VM_TIMED_OUT=0
	"$DMATAG_ROOT/scripts/vm.sh" --dir "$_dir" --disk-size "$VM_DISK_SIZE" "$@" \
		>"$_dir/qemu.log" 2>&1 &
	_qemu=$!
	_served=0
	_jobs=
	_deadline=$(($(date +%s) + _timeout))
	while kill -0 "$_qemu" 2>/dev/null; do
		# only whole requests: the guest may be half way through a line
		_reqs=$(tr -d '\r' <"$_dir/ctl.log" | sed -n 's/^@@REQ \(.*\);$/\1/p')
		_nreq=$(printf '%s' "$_reqs" | grep -c '') || true
		while [ "$_served" -lt "$_nreq" ]; do
			_served=$((_served + 1))
			_req=$(printf '%s\n' "$_reqs" | sed -n "${_served}p")
			echo "[$(date +%T)] request: $_req" >>"$_dir/host.log"
			vm_request "$_dir" "$_req" >>"$_dir/host.log" 2>&1 &
			_jobs="$_jobs $!"
		done
		grep -q '^@@END' "$_dir/ctl.log" && break
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			VM_TIMED_OUT=1
			break
		fi
		sleep 0.5
	done
	# let a guest that is done power off; never leave a QEMU behind
	if [ "$VM_TIMED_OUT" = 0 ]; then
		for _ in $(seq 20); do kill -0 "$_qemu" 2>/dev/null || break; sleep 0.5; done
	fi
	kill -9 "$_qemu" 2>/dev/null || true
	wait "$_qemu" 2>/dev/null || true
	for _j in $_jobs; do wait "$_j" 2>/dev/null || true; done
}

# vm_console_tail DIR [N]: the end of the guest console, for a failure report;
# when the guest reported a kernel complaint (kernel_log_clean), the start of
# the first one comes first: the end of a long trace does not say what it was
vm_console_tail() {
	tr -d '\r' <"$1/console.log" |
		sed -n '/^--- around the first:/,$p' | sed -n '2,26p' |
		sed 's/^/    | /' | grep . && echo "    | [...]"
	tail -n "${2:-40}" "$1/console.log" | tr -d '\r' | sed 's/^/    | /'
}

# --- the VM tests of make check ----------------------------------------

# test_header FILE KEY: the value of the test's "# KEY: VALUE" line
test_header() {
	sed -n "s/^# $2: *\([0-9a-z]*\).*/\1/p" "$1" | head -n 1
}

# vm_pool_order TEST...: the order of make check's pool of VM tests
# (VM_JOBS=2): the tests that took longest in the last run on
# this machine first (VM_TIMES), so that no long test starts last and runs
# with the other slot idle; tests without a time keep their order, first.
vm_pool_order() {
	local t name secs
	for t in "$@"; do
		name=$(basename "$t" .sh)
		secs=$(awk -v n="$name" '$1 == n { s = $2 } END { print s + 0 }' \
			"$VM_TIMES" 2>/dev/null || echo 0)
		[ "$secs" -gt 0 ] || secs=100000
		echo "$secs $t"
	done | sort -s -k1,1nr | cut -d' ' -f2-
}

# vm_merge NAME RC: the output of a finished VM test (RUNS/NAME.out, from
# vm_one in scripts/check.sh, its "ok N - CASE" lines numbered from 1) into
# the run's results, renumbered; RC non-zero (its runner failed) is a
# failed case; its "@@TIME NAME SECONDS CPU" line goes into VM_TIMES
vm_merge() {
	local name=$1 rc=$2 line rest secs=0 cpu=0
	while IFS= read -r line; do
		case "$line" in
		"not ok "[0-9]*" - "*" # "*)
			rest=${line#not ok * - }
			result fail "${rest%% \# *}" "${rest#* \# }" ;;
		"not ok "[0-9]*" - "*) result fail "${line#not ok * - }" ;;
		"ok "[0-9]*" - "*" # SKIP "*)
			rest=${line#ok * - }
			result skip "${rest%% \# SKIP *}" "${rest#* \# SKIP }" ;;
		"ok "[0-9]*" - "*) result ok "${line#ok * - }" ;;
		"@@TIME $name "*)
			set -- $line
			secs=$3 cpu=$4 ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$RUNS/$name.out"
	[ "$rc" = 0 ] || result fail "vm/$name" "its runner exited with $rc"
	log "vm/$name: $secs s (CPU $cpu s)"
	[ "$secs" -gt 0 ] || return 0
	{ grep -v "^$name " "$VM_TIMES" 2>/dev/null; echo "$name $secs"; } >"$VM_TIMES.new"
	mv "$VM_TIMES.new" "$VM_TIMES"
}
