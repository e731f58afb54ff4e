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
busybox-static dmsetup mdadm fio liburing-dev"

# Result bookkeeping shared by every phase of `make check`: one line per
# case in $DMATAG_RESULTS, printed as TAP with a running number.
DMATAG_RESULTS=${DMATAG_RESULTS:-$DMATAG_OUT/check/results}
export DMATAG_RESULTS

result() { # result ok|fail NAME [DETAIL]
	mkdir -p "$(dirname "$DMATAG_RESULTS")"
	_n=$(($(wc -l <"$DMATAG_RESULTS" 2>/dev/null || echo 0) + 1))
	if [ "$1" = ok ]; then
		echo "ok $2" >>"$DMATAG_RESULTS"
		printf 'ok %d - %s\n' "$_n" "$2"
	else
		echo "not ok $2" >>"$DMATAG_RESULTS"
		printf 'not ok %d - %s%s\n' "$_n" "$2" "${3:+ # $3}"
	fi
}

results_summary() {
	_pass=$(grep -c '^ok ' "$DMATAG_RESULTS" 2>/dev/null) || true
	_fail=$(grep -c '^not ok ' "$DMATAG_RESULTS" 2>/dev/null) || true
	echo "${_pass:-0} passed, ${_fail:-0} failed"
	[ "${_fail:-0}" -eq 0 ] && [ "${_pass:-0}" -gt 0 ]
}
