# SPDX-License-Identifier: GPL-2.0
# Guest-side library of the dmatag tests (busybox sh). Sourced by /init, by
# every test in tests/vm/ and by the demo; keep one copy of each job here.
#
# Protocol with the host (vm_run in scripts/lib.sh) on /dev/ttyS1, one line each:
#   @@CASE ok NAME | @@CASE fail NAME REASON     a test case's verdict
#   @@REQ unplug nvI; | @@REQ plug nvI;           hot-plug request to the host
#   @@RAN                                         the test script ran to its
#                                                 end
#   @@END RC                                      the guest is done
# The console (ttyS0) carries the human-readable log.

CTL=/dev/ttyS1
# kernel log lines that fail a test whatever else it checked
# dma-debug's reports name the device ("DMA-API: nvme 0000:01:00.0: device
# driver ..."); its start-up lines ("DMA-API: preallocated ...") do not.
# Lockdep reports start with "WARNING:" (circular dependency, suspicious RCU
# usage, inconsistent lock state); kmemleak's scans say "suspected memory
# leaks"; KASAN's reports start with "BUG: KASAN:".
# kmemleak that runs out of its pool says "Kernel memory leak detector
# disabled" and checks nothing from then on.
KERNEL_COMPLAINTS='BUG:|WARNING:|Call Trace:|DMA-API: [^ ]+ [^ ]+: |KASAN:|UBSAN:|blocked for more than|Oops|general protection|suspected memory leak|leak detector disabled'
# the files of the checks that read the kernel's reports
GUEST_TMP=${GUEST_TMP:-/tmp}

T=/sys/kernel/tracing

ctl() {
	echo "$*" >"$CTL"
}

# cmdline_arg KEY: the value of dmatag.KEY= on the kernel command line
cmdline_arg() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^dmatag\.$1=//p" | tail -n 1
}

say() {
	echo "[$(cut -d' ' -f1 /proc/uptime)] $*"
}

case_ok() { # case_ok NAME
	ctl "@@CASE ok $1"
	say "ok - $1"
}

case_fail() { # case_fail NAME REASON...
	local name=$1
	shift
	ctl "@@CASE fail $name $*"
	say "not ok - $name # $*"
}

# check NAME CMD...: one case whose verdict is CMD's exit status
check() {
	local name=$1
	shift
	if "$@"; then case_ok "$name"; else case_fail "$name" "failed: $*"; fi
}

# wait_for SECONDS CMD...: poll CMD every half second until it succeeds
wait_for() {
	local left=$(($1 * 2))
	shift
	while ! "$@" 2>/dev/null; do
		left=$((left - 1))
		[ "$left" -gt 0 ] || return 1
		sleep 0.5
	done
}

# --- NVMe controllers ---------------------------------------------------
# QEMU device nvI has serial dmtagI; a controller plugged later has serial
# nvI<digits>. Print the namespace block device (nvme2n1) of device nvI.
nvme_ns_of() { # nvme_ns_of nvI
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/serial" ] || continue
		s=$(tr -d ' ' <"$c/serial")
		case "$s" in
		"dmtag${1#nv}" | "$1"[0-9]*)
			for ns in "$c"/nvme*n1; do
				[ -e "$ns" ] && basename "$ns" && return 0
			done ;;
		esac
	done
	return 1
}

nvme_gone() { ! nvme_ns_of "$1" >/dev/null; }

# Ask the host to hot-unplug controller nvI; wait until the guest let go.
host_unplug() { # host_unplug nvI
	ctl "@@REQ unplug $1;"
	say "host: unplug $1 requested"
	wait_for 60 nvme_gone "$1" || { say "host: $1 still present after 60 s"; return 1; }
	say "host: $1 removed"
}

# Ask the host to plug a fresh, empty NVMe as nvI; wait for its namespace.
host_plug() { # host_plug nvI
	ctl "@@REQ plug $1;"
	say "host: plug $1 requested"
	wait_for 60 nvme_ns_of "$1" || { say "host: $1 did not appear within 60 s"; return 1; }
	say "host: $1 is $(nvme_ns_of "$1")"
}

# --- device-mapper and md ---------------------------------------------------
dm() { # dm ARGS...: dmsetup without udev
	DM_DISABLE_UDEV=1 dmsetup "$@" --noudevsync
}

dm_create() { # dm_create NAME TABLE
	dm create "$1" --table "$2" && DM_DISABLE_UDEV=1 dmsetup mknodes "$1"
}

sectors() { # sectors DEV: size of /dev/DEV in 512-byte sectors
	cat "/sys/class/block/$1/size"
}

# striped_table DEV...: a dm striped table over the whole of each DEV (the
# size of the first), 64 KiB chunks
striped_table() {
	local per=$(($(sectors "$1") / $# / 128 * 128)) legs= d
	for d in "$@"; do legs="$legs /dev/$d 0"; done
	echo "0 $((per * $#)) striped $# 128$legs"
}

# md_state MD [MDSTAT]: the member map in /proc/mdstat, e.g. [UU] or [U_]
md_state() {
	awk -v md="$1" '$1 == md { f = 1; next }
		f && /\[[U_]+\]$/ { match($0, /\[[U_]+\]$/); print substr($0, RSTART); exit }' \
		"${2:-/proc/mdstat}"
}

md_is() { [ "$(md_state "$1")" = "$2" ]; } # md_is MD STATE

md_idle() { [ "$(cat "/sys/block/$1/md/sync_action")" = idle ]; }

md_rebuilt() { [ "$(cat "/sys/block/$1/md/degraded")" = 0 ] && md_idle "$1"; }

md_replaced() { # md_replaced MD DEV: the replacement is done, DEV is out
	md_idle "$1" && grep -q faulty "/sys/block/$1/md/dev-$2/state"
}

# md_drop MD DEV: --fail DEV, then --remove it once md let go of it (md
# refuses while the member has IO pending). DEV may be "detached".
md_drop() {
	mdadm "/dev/$1" --fail "$2" || return 1
	md_show "$1" "failed $2"
	wait_for 30 mdadm "/dev/$1" --remove "$2" || return 1
	md_show "$1" "removed $2"
}

md_show() { # md_show MD LABEL: log the array's state
	say "$2: $1 $(md_state "$1") degraded=$(cat "/sys/block/$1/md/degraded") sync=$(cat "/sys/block/$1/md/sync_action")"
}

# --- fio ----------------------------------------------------------------------
# fio with the io_uring engine on registered files and buffers: the path
# that premapped DMA serves.
FIO_URING="--ioengine=io_uring --fixedbufs=1 --registerfiles=1 --direct=1"
# the invocation most people write: fixed buffers through plain descriptors
FIO_FIXEDBUFS="--ioengine=io_uring --fixedbufs=1 --direct=1"

# fio_verify NAME DEV [FIO ARGS...]: write DEV with crc32c-tagged blocks and
# read them back; 0 only when fio reports no error and no mismatch.
fio_verify() {
	local name=$1 dev=$2 rc
	shift 2
	fio --name="$name" --filename="$dev" $FIO_URING --iodepth=8 \
		--rw=randwrite --bs=4k --size=32M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --verify_backlog=512 "$@" >"/tmp/fio-$name.log" 2>&1
	rc=$?
	grep -q 'err= 0' "/tmp/fio-$name.log" || rc=1
	if [ "$rc" -ne 0 ]; then
		say "fio $name on $dev failed (rc $rc):"
		tail -n 30 "/tmp/fio-$name.log"
	else
		say "fio $name on $dev: $(grep -o 'IOPS=[^,]*' "/tmp/fio-$name.log" | tr '\n' ' ')verified"
	fi
	return "$rc"
}

# --- per-IO DMA work: ftrace function profiler ------------------------------
DMA_MAP_FUNCS="dma_map_page_attrs dma_map_sg_attrs dma_map_sgtable"
DMA_UNMAP_FUNCS="dma_unmap_page_attrs dma_unmap_sg_attrs"
DMA_FLUSH_FUNCS="qi_flush_iotlb"
# io_uring's punts to its worker threads, and its reissues of a nowait IO
# that completed with -EAGAIN (patch 0004): counted with the same profiler
IOWQ_FUNCS="io_wq_submit_work io_req_rw_reissue"

profile_setup() {
	[ -d "$T/trace_stat" ] || mount -t tracefs none "$T" || return 1
	echo 0 >"$T/function_profile_enabled"
	: >"$T/set_ftrace_filter"
	for f in $DMA_MAP_FUNCS $DMA_UNMAP_FUNCS $DMA_FLUSH_FUNCS $IOWQ_FUNCS; do
		echo "$f" >>"$T/set_ftrace_filter" || return 1
	done
}

# profile_on: the profiler counting those functions, switched on once and
# then left on (callers take differences). Switching ftrace patches kernel
# text; under TCG a CPU running a patched function at that moment (an
# io_uring ring unmapping its buffers after its process exited) can take the
# patching int3 as a fatal trap. Call it, like profile_setup, when no IO or
# unmap runs.
profile_on() {
	[ -d "$T/trace_stat" ] || mount -t tracefs none "$T" || return 1
	[ "$(cat "$T/function_profile_enabled")" = 1 ] && return 0
	profile_setup && echo 1 >"$T/function_profile_enabled"
}

# dma_hits: "MAPS UNMAPS FLUSHES" counted so far
dma_hits() {
	echo "$(profile_hits $DMA_MAP_FUNCS) $(profile_hits $DMA_UNMAP_FUNCS) $(profile_hits $DMA_FLUSH_FUNCS)"
}

# unmaps_caught_up HITS: as many unmap calls as map calls since dma_hits
# printed HITS (a stack's members unmap a grace period or two after the
# stack itself)
unmaps_caught_up() {
	set -- $1 $(dma_hits)
	[ $(($5 - $2)) -ge $(($4 - $1)) ]
}

# profile_hits FUNCS...: calls counted by the profiler, summed over CPUs
profile_hits() {
	cat "$T"/trace_stat/function* | awk -v list=" $* " '
		index(list, " " $1 " ") && $2 ~ /^[0-9]+$/ { n += $2 }
		END { print n + 0 }'
}

# per_io HITS IOS: HITS / IOS with three decimals, for reports and for
# near; a claim of "none" compares the integer count (exactly_zero): three
# decimals print 2 calls in 4096 IOs as 0.000
per_io() {
	awk -v h="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.3f", h / n; else print "nan" }'
}

# dma_count LABEL FIO ARGS...: run one fio job under the function profiler
# (profile_on) and set DC_IOS, DC_IOPS, DC_MAP, DC_UNMAP, DC_FLUSH (per IO,
# from fio's start to its exit), DC_MAP_N, DC_UNMAP_N, DC_FLUSH_N (the
# calls counted) and DC_RC.
dma_count() {
	local _label=$1 _h0 _h1
	shift
	DC_IOS=0 DC_IOPS=0 DC_MAP=nan DC_UNMAP=nan DC_FLUSH=nan DC_RC=1
	DC_MAP_N= DC_UNMAP_N= DC_FLUSH_N=
	profile_on || { say "dma_count: function profiler unavailable"; return 1; }
	_h0=$(dma_hits)
	fio --name="$_label" --output-format=json "$@" >"/tmp/dc-$_label.json" 2>"/tmp/dc-$_label.err"
	DC_RC=$?
	_h1=$(dma_hits)
	DC_IOS=$(awk -F: '/"total_ios"/ { gsub(/[ ,]/, "", $2); n += $2 } END { print n + 0 }' "/tmp/dc-$_label.json")
	DC_IOPS=$(awk -F: '/"iops" :/ { gsub(/[ ,]/, "", $2); n += $2 } END { printf "%d", n }' "/tmp/dc-$_label.json")
	grep -q '"error" : 0,' "/tmp/dc-$_label.json" || DC_RC=1
	set -- $_h0 $_h1
	DC_MAP_N=$(($4 - $1)) DC_UNMAP_N=$(($5 - $2)) DC_FLUSH_N=$(($6 - $3))
	DC_MAP=$(per_io "$DC_MAP_N" "$DC_IOS")
	DC_UNMAP=$(per_io "$DC_UNMAP_N" "$DC_IOS")
	DC_FLUSH=$(per_io "$DC_FLUSH_N" "$DC_IOS")
	say "dma_count $_label: ios=$DC_IOS iops=$DC_IOPS map/io=$DC_MAP unmap/io=$DC_UNMAP flush/io=$DC_FLUSH ($DC_MAP_N/$DC_UNMAP_N/$DC_FLUSH_N calls) rc=$DC_RC"
	[ "$DC_RC" -eq 0 ] || cat "/tmp/dc-$_label.err"
	return "$DC_RC"
}

# near VALUE WANT: VALUE within 2% of WANT; WANT 0 is refused (a rounded
# per-IO figure cannot show "none": use exactly_zero on the count)
near() {
	awk -v v="$1" -v w="$2" 'BEGIN { d = v - w; if (d < 0) d = -d;
		exit !(v != "nan" && w != 0 && d <= 0.02 * w) }'
}

# exactly_zero COUNT: COUNT is the integer 0 (not empty, not "0.000")
exactly_zero() {
	[ "$1" = 0 ]
}

# md_create MD LEVEL DEVS... [-- MDADM ARGS]: a clean array (no initial resync)
md_create() {
	local md=$1 level=$2 devs= n=0
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do devs="$devs $1"; n=$((n + 1)); shift; done
	[ "${1:-}" = -- ] && shift
	mdadm --create "/dev/$md" --run --quiet --assume-clean --metadata=1.2 \
		--level="$level" --raid-devices="$n" "$@" $devs && md_show "$md" created
}

# --- IO that keeps running across a hot-swap ------------------------------
# bg_verify_start NAME DEV: fio write+verify rounds on the first 32 MiB of DEV
# in the background until bg_verify_stop; every round checks what it wrote.
bg_verify_start() {
	touch "/tmp/bg-$1.run"
	rm -f "/tmp/bg-$1.fail" "/tmp/bg-$1.rounds"
	(
		i=0
		while [ -e "/tmp/bg-$1.run" ]; do
			i=$((i + 1))
			fio_verify "$1-$i" "$2" --size=32M >/dev/null ||
				{ echo "$i" >"/tmp/bg-$1.fail"; tail -n 30 "/tmp/fio-$1-$i.log"; break; }
		done
		echo "$i" >"/tmp/bg-$1.rounds"
	) &
	BG_PID=$!
}

# bg_verify_stop NAME: let the running round finish; 0 when no round failed
bg_verify_stop() {
	local rounds
	rm -f "/tmp/bg-$1.run"
	wait "$BG_PID"
	rounds=$(cat "/tmp/bg-$1.rounds" 2>/dev/null || echo 0)
	say "background verify $1: $rounds rounds"
	[ ! -e "/tmp/bg-$1.fail" ] && [ "$rounds" -gt 0 ]
}

# A reference region written before a swap and read back after it, once the
# surviving old member is failed too, so that only rebuilt members serve it.
REF_ARGS="--rw=write --bs=64k --offset=64M --size=32M --verify=crc32c --verify_fatal=1"
ref_write() { # ref_write DEV
	fio --name=ref --filename="$1" $FIO_URING $REF_ARGS --do_verify=0 >/tmp/fio-ref-w.log 2>&1 &&
		grep -q 'err= 0' /tmp/fio-ref-w.log
}
ref_verify() { # ref_verify DEV
	fio --name=ref --filename="$1" $FIO_URING $REF_ARGS --verify_only >/tmp/fio-ref-v.log 2>&1 &&
		grep -q 'err= 0' /tmp/fio-ref-v.log || { tail -n 20 /tmp/fio-ref-v.log; return 1; }
	say "reference region verified: $(grep -o 'read: IOPS=[^,]*' /tmp/fio-ref-v.log)"
}

# md_recover MD: wait until recovery has brought every member in sync
md_recover() {
	echo 200000 >/proc/sys/dev/raid/speed_limit_min
	md_show "$1" recovering
	wait_for 300 md_rebuilt "$1" || { md_show "$1" "recovery timed out"; return 1; }
	md_show "$1" rebuilt
}

# raid1_rebuild_checks PREFIX MD NEW OLD BG: the cases that end a raid1
# member swap: add NEW, wait for recovery, stop background verify BG, then
# fail OLD so that only the rebuilt member serves the reference region.
raid1_rebuild_checks() {
	check "$1-add" mdadm "/dev/$2" --add "$3"
	check "$1-rebuilt" md_recover "$2"
	check "$1-clean" md_is "$2" "[UU]"
	sleep 2
	check "$1-fio-verify" bg_verify_stop "$5"
	check "$1-old-member-out" md_drop "$2" "$4"
	check "$1-rebuilt-data" ref_verify "/dev/$2"
	mdadm --stop "/dev/$2"
}

# --- premapped IO (DMA tags) --------------------------------------------------
# tool_cases PREFIX CMD...: run a tool that prints "ok NAME" and
# "not ok NAME: why" lines; each becomes the case PREFIX-NAME. A tool that
# reports nothing, or fails without saying what, fails PREFIX-exit.
tool_cases() {
	local prefix=$1 log rc n
	shift
	log=/tmp/tool-$prefix.log
	"$@" >"$log" 2>&1
	rc=$?
	n=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*)
			line=${line#ok }
			case_ok "$prefix-${line%% *}"
			n=$((n + 1)) ;;
		"not ok "*)
			line=${line#not ok }
			case_fail "$prefix-${line%%:*}" "${line#*: }"
			n=$((n + 1)) ;;
		counters* | fixed_ios* | load* | hold:* | errno* | fsrace* | "# "*) say "$prefix: $line" ;;
		esac
	done <"$log"
	if [ "$n" -eq 0 ] || { [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$log"; }; then
		case_fail "$prefix-exit" "rc $rc, $n cases"
		tail -n 20 "$log"
	fi
	return "$rc"
}

# premap_mode DISK off|on|auto
premap_mode() {
	echo "$2" >"/sys/block/$1/queue/dma_premap"
}

# dma_tag DISK COUNTER: one counter of /sys/block/DISK/dma_tag
dma_tag() {
	cat "/sys/block/$1/dma_tag/$2"
}

# load_count LABEL DEV [ARGS...]: dmatag-io load (4096 random 4 KiB
# READ_FIXED, queue depth 8) with the function profiler on only around the
# IO; sets LC_IOS, LC_IOPS, LC_MAP, LC_UNMAP, LC_FLUSH (per IO) and
# LC_MAP_N, LC_UNMAP_N, LC_FLUSH_N (the calls counted)
load_count() {
	local label=$1 dev=$2
	shift 2
	LC_IOS=4096 LC_MAP=nan LC_UNMAP=nan LC_FLUSH=nan LC_IOPS=0
	LC_MAP_N= LC_UNMAP_N= LC_FLUSH_N=
	profile_setup || return 1
	dmatag-io load "$dev" --ios "$LC_IOS" --qd 8 --bs 4096 \
		--profile "$T/function_profile_enabled" "$@" >"/tmp/lc-$label.log" 2>&1 ||
		{ cat "/tmp/lc-$label.log"; return 1; }
	LC_IOPS=$(sed -n 's/^load .* iops=\([0-9]*\).*/\1/p' "/tmp/lc-$label.log")
	set -- $(dma_hits)
	LC_MAP_N=$1 LC_UNMAP_N=$2 LC_FLUSH_N=$3
	LC_MAP=$(per_io "$1" "$LC_IOS")
	LC_UNMAP=$(per_io "$2" "$LC_IOS")
	LC_FLUSH=$(per_io "$3" "$LC_IOS")
	say "count $label ($(cmdline_arg iommu)): ios=$LC_IOS iops=$LC_IOPS map/io=$LC_MAP unmap/io=$LC_UNMAP flush/io=$LC_FLUSH ($1/$2/$3 calls)"
}

# path_count LABEL DEV [ARGS...]: the path length of an IO, every traced
# kernel call per IO: dmatag-io load (4096 random 4 KiB READ_FIXED, queue
# depth 8) after 1024 IOs of warm-up, the function profiler with no filter
# on only around the counted IO. Sets PC_CALLS (per IO, one decimal).
path_count() {
	local label=$1 dev=$2 n
	shift 2
	PC_CALLS=nan
	[ -d "$T/trace_stat" ] || mount -t tracefs none "$T" || return 1
	echo 0 >"$T/function_profile_enabled"
	: >"$T/set_ftrace_filter"
	dmatag-io load "$dev" --ios 4096 --warmup 1024 --qd 8 --bs 4096 \
		--profile "$T/function_profile_enabled" "$@" >"/tmp/pc-$label.log" 2>&1
	n=$?
	[ "$n" -eq 0 ] || { cat "/tmp/pc-$label.log"; profile_setup; return 1; }
	n=$(cat "$T"/trace_stat/function* | awk '$2 ~ /^[0-9]+$/ { n += $2 } END { print n + 0 }')
	# later profile_on calls count only the DMA functions again (on stock
	# 6.1.192, which the benchmark also measures, io_req_rw_reissue is
	# missing: the filter is then set without it)
	profile_setup 2>/dev/null
	PC_CALLS=$(awk -v n="$n" 'BEGIN { printf "%.1f", n / 4096 }')
	say "path $label ($(cmdline_arg iommu)): $PC_CALLS calls per IO ($n in 4096 IOs), $(sed -n 's/^load .* iops=\([0-9]*\).*/iops \1/p' "/tmp/pc-$label.log")"
	[ "$n" -gt 0 ]
}

# less_than A B: A < B (decimals)
less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# dm_remove NAME: dmsetup remove, retried for 10 s: an io_uring ring that
# had the device registered lets go of it in its exit work, after the
# application has exited
dm_remove() {
	wait_for 10 dm remove "$1"
}

# no_leak DISK: every buffer mapped on DISK was unmapped (waits 10 s for
# rings being torn down)
no_leak() {
	wait_for 10 maps_equal_unmaps "$1"
}

maps_equal_unmaps() {
	test "$(dma_tag "$1" maps)" -eq "$(dma_tag "$1" unmaps)"
}

# dm_disk NAME: the dm-N name of /dev/mapper/NAME
dm_disk() {
	DM_DISABLE_UDEV=1 dmsetup info -c --noheadings -o blkdevname "$1"
}

# premap_stack LABEL DEV DISK [dmatag-io verify ARGS]: premapped IO on a
# stacked device: dmatag-io verify (explicit map), per-IO counts 0/0/0 for
# random reads (and 1 map per IO for the same reads plain), and stock fio
# verify in auto mode with the counters of DISK. $SETTLE (a command), when
# set, runs before the counts: md writes its superblock from its own pages
# when the array turns clean after the writes of the verify.
premap_stack() {
	local label=$1 dev=$2 disk=$3 pm0 fb0
	shift 3
	tool_cases "$label-verify" dmatag-io verify "$dev" "$@"
	# the verify's ring unmaps its buffers in io_uring's exit work, after
	# the process is gone: not inside the counting window below
	check "$label-verify-released" no_leak "$disk"
	[ -z "${SETTLE:-}" ] || check "$label-settle" $SETTLE
	check "$label-quiet" disks_quiet "${QUIET:-1}"
	check "$label-count-run" load_count "$label" "$dev"
	check "$label-map-0" exactly_zero "$LC_MAP_N"
	check "$label-unmap-0" exactly_zero "$LC_UNMAP_N"
	check "$label-flush-0" exactly_zero "$LC_FLUSH_N"
	# the same reads plain, side by side: one map and one unmap each
	check "$label-plain-count-run" load_count "$label-plain" "$dev" --plain
	check "$label-plain-map-1" near "$LC_MAP" 1
	premap_mode "$disk" auto
	pm0=$(dma_tag "$disk" premapped_ios) fb0=$(dma_tag "$disk" fallback_ios)
	check "$label-fio-auto" fio_verify "$label" "$dev" --size=8M
	say "$label auto: premapped_ios +$(($(dma_tag "$disk" premapped_ios) - pm0)) fallback_ios +$(($(dma_tag "$disk" fallback_ios) - fb0))"
	check "$label-fio-auto-premapped" test $(($(dma_tag "$disk" premapped_ios) - pm0)) -ge 1000
	check "$label-fio-auto-no-fallback" test "$(dma_tag "$disk" fallback_ios)" -eq "$fb0"
	premap_mode "$disk" on
	check "$label-no-leak" no_leak "$disk"
}

# disks_quiet [SECONDS]: no NVMe namespace wrote or had IO in flight for
# SECONDS (1) in a row, 20 s at most. md and dm-raid write their
# superblocks a moment after the last write (safe mode), on a slow machine
# later still; a write-intent bitmap's daemon clears the bits of the last
# writes a page at a time, one or two of its periods apart: a count of the
# reads that follow must not see those writes.
nvme_write_state() {
	cat /sys/block/nvme*n*/stat | awk '{ w += $5; f += $9 } END { print w, f }'
}
disks_quiet() {
	local a b i=0 still=0
	b=$(nvme_write_state)
	while [ $i -lt 20 ]; do
		sleep 1
		a=$b b=$(nvme_write_state)
		if [ "$a" = "$b" ] && [ "${b#* }" = 0 ]; then
			still=$((still + 1))
			[ "$still" -ge "${1:-1}" ] && return 0
		else
			still=0
		fi
		i=$((i + 1))
	done
	say "disks not quiet: writes, in flight $b"
	return 1
}

# --- premapped IO under changing members ----------------------------------
# bg_fio NAME DEV SECONDS [FIO ARGS]: stock fio write+verify in the
# background until bg_fio_ok NAME stops it through fio's trigger file (a
# clean end: exit 0, the verify state saved), at the latest after 6 x
# SECONDS. SECONDS is what the test's steps take on the developer's
# machine: the slack keeps IO running through every step where the
# machine is slower, instead of a window seeing none.
bg_fio() {
	local name=$1 dev=$2 secs=$3
	shift 3
	rm -f "/tmp/fio-$name.stop"
	(cd /tmp && exec fio --trigger-file="/tmp/fio-$name.stop" \
		--name="$name" --filename="$dev" $FIO_URING --iodepth=8 \
		--rw=randwrite --bs=4k --size=32M --verify=crc32c \
		--verify_backlog=256 --verify_fatal=1 --time_based \
		--runtime=$((secs * 6)) "$@") >"/tmp/fio-$name.log" 2>&1 &
	BG_PID=$!
}

# bg_fio_ok NAME: stop the background fio; it ended without an error, and
# it was still running (else a window may have seen no IO)
bg_fio_ok() {
	local early=0
	kill -0 "$BG_PID" 2>/dev/null || early=1
	touch "/tmp/fio-$1.stop"
	wait "$BG_PID" || { tail -n 20 "/tmp/fio-$1.log"; return 1; }
	grep -q 'err= 0' "/tmp/fio-$1.log" || { tail -n 20 "/tmp/fio-$1.log"; return 1; }
	say "fio $1: $(grep -o 'IOPS=[^,]*' "/tmp/fio-$1.log" | tr '\n' ' ')verified"
	[ "$early" = 0 ] || { say "fio $1 ended before it was stopped"; return 1; }
}

# share DISK: "premapped fallback" counters of DISK
share() {
	echo "$(dma_tag "$1" premapped_ios) $(dma_tag "$1" fallback_ios)"
}

# io_started DISK: wait up to 60 s until IO through DISK is counted,
# premapped or not. A background fio on a slow guest (two guests sharing
# the host) can take more than 6 s to issue its first IO: a window that
# starts before then sees none.
io_started() {
	wait_for 60 share_moved "$1" "$(share "$1")"
}
share_moved() { [ "$(share "$1")" != "$2" ]; } # share_moved DISK SHARE

# window LABEL DISK BEFORE: log the counters' growth since BEFORE; fail if
# any IO fell back or none was premapped
window() {
	set -- "$1" "$2" $3 $(share "$2")
	say "$1: premapped +$(($5 - $3)) fallback +$(($6 - $4))"
	[ $(($5 - $3)) -gt 0 ] && [ "$6" -eq "$4" ]
}

# nested_premapped INNER INNER0 TOP TOP0: the IO that TOP (a device stacked
# on INNER) sent on since the shares INNER0 and TOP0 was premapped on INNER
# too: TOP's premapped bios reached INNER, and INNER passed on at least as
# many premapped (a split makes more) and none plain
nested_premapped() {
	local ip ifb tp i1 t1
	ip=${2% *} ifb=${2#* } tp=${4% *}
	i1=$(share "$1") t1=$(share "$3")
	tp=$((${t1% *} - tp)) ip=$((${i1% *} - ip)) ifb=$((${i1#* } - ifb))
	say "nested: $3 premapped +$tp; $1 premapped +$ip fallback +$ifb"
	[ "$tp" -gt 0 ] && [ "$ip" -ge "$tp" ] && [ "$ifb" -eq 0 ]
}

# share_at_least LABEL DISK BEFORE PCT: log the counters' growth since
# BEFORE; fail unless IO was premapped and at least PCT percent of it
share_at_least() {
	set -- "$1" "$2" $3 "$4" $(share "$2")
	say "$1: premapped +$(($6 - $3)) fallback +$(($7 - $4))"
	[ $(($6 - $3)) -gt 0 ] && [ $((($6 - $3) * 100)) -ge $((($6 - $3 + $7 - $4) * $5)) ]
}

# swap_begin MD JOINER: note MD's remaps and JOINER's maps before a swap
swap_begin() {
	SW_R0=$(dma_tag "$1" remaps) SW_M0=$(dma_tag "$2" maps)
}

# swap_end PREFIX MD DISK JOINER BG: the cases that end a member swap under
# bg_fio BG: at least 99 % of the IO on DISK premapped in the next 4 s, fio
# without error, MD's buffers remapped and JOINER mapped
swap_end() {
	local c
	c=$(share "$3")
	sleep 4
	check "$1-share-after" share_at_least "$1-after" "$3" "$c" 99
	check "$1-fio" bg_fio_ok "$5"
	say "$1: $2 remaps +$(($(dma_tag "$2" remaps) - SW_R0)), $4 maps +$(($(dma_tag "$4" maps) - SW_M0))"
	check "$1-remapped" test "$(dma_tag "$2" remaps)" -gt "$SW_R0"
	check "$1-joiner-mapped" test "$(dma_tag "$4" maps)" -gt "$SW_M0"
}

# --- filesystems -------------------------------------------------------------
# fs_make FS DEV: a fresh ext4 (4 KiB blocks, inode tables and journal
# initialised now, not by a background thread) or XFS (reflink) on DEV
fs_make() {
	case $1 in
	ext4) mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$2" ;;
	xfs) mkfs.xfs -q -f -K -m reflink=1 "$2" ;;
	*) return 1 ;;
	esac >"/tmp/mkfs.log" 2>&1 || { cat /tmp/mkfs.log; return 1; }
}

# fs_mount FS DEV DIR [OPTIONS]: mount without atime updates (reads write
# nothing, so the per-IO counts see only the IO)
fs_mount() {
	mkdir -p "$3" && mount -t "$1" -o "noatime${4:+,$4}" "$2" "$3"
}

# fs_check FS DEV: a check that changes nothing finds nothing
fs_check() {
	case $1 in
	ext4) e2fsck -fn "$2" ;;
	xfs) xfs_repair -n "$2" ;;
	*) false ;;
	esac >/tmp/fsck.log 2>&1 || { tail -n 20 /tmp/fsck.log; return 1; }
}

# fs_umount_all: unmount every filesystem on a disk of the tests
fs_umount_all() {
	local m
	for m in $(awk '$1 ~ /^\/dev\/(nvme|md|dm-|mapper|loop)/ { print $2 }' /proc/mounts | sort -r); do
		fsfreeze --unfreeze "$m" >/dev/null 2>&1
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

# --- after every test: nothing left behind --------------------------------
KMEMLEAK=/sys/kernel/debug/kmemleak

# up_cs: centiseconds since boot
up_cs() {
	awk '{ printf "%d", $1 * 100 }' /proc/uptime
}

# kmemleak_scan: two scans (see kmemleak_check), the second at least
# KMEMLEAK_WAIT (6) s after the call; false when refused
kmemleak_scan() {
	local t
	t=$(($(up_cs) + ${KMEMLEAK_WAIT:-6} * 100))
	echo scan >"$KMEMLEAK" || return 1
	while [ "$(up_cs)" -lt "$t" ]; do sleep 0.5; done
	echo scan >"$KMEMLEAK"
}

# mapped_disks: the disks that still have bytes premapped
mapped_disks() {
	local f
	for f in /sys/block/*/dma_tag/mapped_bytes; do
		[ -r "$f" ] || continue
		[ "$(cat "$f")" = 0 ] || echo "${f#/sys/block/}" | cut -d/ -f1
	done
}

no_disk_mapped() { [ -z "$(mapped_disks)" ]; }

# after_test: tear down the stacks a test left (filesystems, dm, then md), then
#   teardown-mapped-bytes-zero  every disk's dma_tag/mapped_bytes is 0
#   dma-debug-release           every NVMe controller is unbound from its
#                               driver: dma-debug reports any mapping left
#                               (in the kernel log, checked after this)
#   kmemleak-clean              (kernels with kmemleak) a scan finds no new
#                               unreferenced object
after_test() {
	local d i
	fs_umount_all
	for i in 1 2 3; do
		dm remove_all >/dev/null 2>&1
		mdadm --stop --scan >/dev/null 2>&1
		[ -z "$(ls /sys/block | grep -E '^(dm-|md)')" ] && break
		sleep 1
	done
	if wait_for 15 no_disk_mapped; then
		case_ok teardown-mapped-bytes-zero
	else
		case_fail teardown-mapped-bytes-zero "still mapped on: $(mapped_disks | tr '\n' ' ')"
	fi
	for d in /sys/bus/pci/drivers/nvme/0000:*; do
		[ -e "$d" ] && echo "${d##*/}" >/sys/bus/pci/drivers/nvme/unbind
	done
	if [ -n "$(ls /sys/block | grep nvme)" ]; then
		case_fail dma-debug-release "NVMe disks left after unbinding: $(ls /sys/block | grep nvme | tr '\n' ' ')"
	else
		case_ok dma-debug-release
	fi
	kmemleak_check
}

# kmemleak_check: the case kmemleak-clean: a scan finds no unreferenced
# object. kmemleak reports objects older than 5 s at the start of a scan,
# and an object whose contents changed since the scan before (the first scan
# of any new object) is taken as referenced for one scan: scan twice, the
# second 6 s after the test's end at least (the first scan of the debug
# kernel under TCG takes longer than that by itself). The boot leaves no
# suspect (the KUnit boot runs the same check), so nothing is cleared
# before a test. Kernels without kmemleak skip it, unless the host said
# dmatag.kmemleak=1 (the debug kernel): then a missing or disabled kmemleak
# fails.
kmemleak_check() {
	if [ ! -w "$KMEMLEAK" ]; then
		[ "$(cmdline_arg kmemleak)" = 1 ] || return 0
		case_fail kmemleak-clean "no $KMEMLEAK"
		return
	fi
	# a kmemleak that disabled itself refuses the scan, and reports nothing
	if ! kmemleak_scan; then
		case_fail kmemleak-clean "the scan was refused: kmemleak is disabled"
		return
	fi
	kmemleak_report <"$KMEMLEAK"
}

# kmemleak_report < REPORT: kmemleak-clean from what the report says; a
# debugfs file has size 0 whatever it holds, so read it, never test -s
kmemleak_report() {
	local n
	cat >"$GUEST_TMP/kmemleak.log"
	n=$(grep -c '^unreferenced object' "$GUEST_TMP/kmemleak.log")
	if [ "$n" -gt 0 ]; then
		case_fail kmemleak-clean "$n unreferenced objects"
		head -n 60 "$GUEST_TMP/kmemleak.log"
	else
		case_ok kmemleak-clean
	fi
}

# kernel_log_clean: no complaint in the kernel log; the lines shown
kernel_log_clean() {
	local log=$GUEST_TMP/dmesg.log c=$GUEST_TMP/complaints.log
	dmesg >"$log"
	if grep -E "$KERNEL_COMPLAINTS" "$log" >"$c"; then
		case_fail kernel-log-clean "$(head -n 1 "$c")"
		echo "--- kernel log complaints ($(wc -l <"$c") lines):"
		head -n 20 "$c"
		echo "--- around the first:"
		grep -n -E "$KERNEL_COMPLAINTS" "$log" | head -n 1 | cut -d: -f1 |
			while read -r n; do sed -n "$((n > 5 ? n - 5 : 1)),$((n + 60))p" "$log"; done
	else
		case_ok kernel-log-clean
	fi
}
