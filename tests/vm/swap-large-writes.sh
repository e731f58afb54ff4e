# SPDX-License-Identifier: GPL-2.0
# timeout: 1800
# disks: 5
# cases: 135
# Hot-swaps under large mixed writes: stock fio (io_uring, registered files
# and buffers, O_DIRECT, randwrite, bsrange 4k-128k, iodepth 64,
# serialize_overlap) while a member of the array is swapped. md splits such
# writes at chunk and barrier boundaries, and during the swap the second
# part of a split nowait write would have to wait: it completes with
# -EAGAIN after the first part was written, and io_uring reissues it from
# the task (patch 0004) instead of handing it to fio.
# - md raid1 (2 NVMe), raid10 and raid5 (4 NVMe): --fail, --remove, --add
#   of a fresh NVMe, recovery; and --replace of a member with a spare;
# - the dm raid target (raid1 over dm-linear legs): a leg fails (its table
#   turns to error), then the table is reloaded with a fresh leg and
#   "rebuild"; and a healthy leg is replaced the same way.
# Each run premapped (auto) and with dma_premap=off in the same boot; each
# must end with fio exit 0 and no error line, and after the recovery a check
# pass with mismatch_cnt 0. Premapped runs: at least 99 % of the IO
# premapped. Logged per run: fio's error lines and io_uring's reissues;
# raid10's runs (writes split at its chunks) must have reissued some.
# Then the punt rate on a healthy raid1 (4 KiB random writes): io-wq work
# items per IO at most 0.01, premapped and off; the same count with fio's
# force_async=1 must see every IO.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
n4=$(nvme_ns_of nv4)
FIO_SPLIT="--rw=randwrite --bsrange=4k-128k --iodepth=64 --serialize_overlap=1"
RUNTIME=8
# the arrays' size per member, and fio's: the rebuild at 8 MiB/s lasts as
# long as fio runs
SIZE_MB=64

# the profiler counts io_uring's reissues (io_req_rw_reissue); switched on
# now, before any IO (see profile_on)
check profiler-on profile_on

# big_fio NAME DEV: stock fio with large mixed writes in the background
big_fio() {
	fio --name="$1" --filename="$2" $FIO_URING $FIO_SPLIT --size=${SIZE_MB}M \
		--time_based --runtime="$RUNTIME" >"/tmp/fio-$1.log" 2>&1 &
	BG_PID=$!
}

# big_fio_ok NAME: the background fio exited 0 and logged no error
big_fio_ok() {
	local rc=0 errs
	wait "$BG_PID" || rc=$?
	errs=$(grep -c 'error' "/tmp/fio-$1.log")
	say "figure $1: fio rc $rc, $errs error line(s), $(grep -o 'IOPS=[^,]*' "/tmp/fio-$1.log" | tr '\n' ' ')"
	[ "$rc" -eq 0 ] && [ "$errs" -eq 0 ] && grep -q 'err= 0' "/tmp/fio-$1.log" ||
		{ grep -m 5 'error' "/tmp/fio-$1.log"; return 1; }
}

# md_checked MD: a check pass over MD finds no mismatch
md_checked() {
	local m
	echo check >"/sys/block/$1/md/sync_action" || return 1
	wait_for 300 md_idle "$1" || { md_show "$1" "check timed out"; return 1; }
	m=$(cat "/sys/block/$1/md/mismatch_cnt")
	say "$1 check: mismatch_cnt $m"
	[ "$m" = 0 ]
}

# leaf_share: "premapped fallback" summed over the NVMe namespaces: the
# requests that reached a member with a tag
leaf_share() {
	local d p=0 f=0
	for d in $n0 $n1 $n2 $n3 $n4; do
		p=$((p + $(dma_tag "$d" premapped_ios))) f=$((f + $(dma_tag "$d" fallback_ios)))
	done
	echo "$p $f"
}

# leaves_ok PREMAPPED FALLBACK [copies]: at most 1 % fell back, and some
# were premapped unless the array copies
leaves_ok() {
	[ $(($2 * 100)) -le $(($1 + $2)) ] && { [ -n "${3:-}" ] || [ "$1" -gt 0 ]; }
}

# run_end LABEL DISK MODE TOP0 LEAF0 REISSUES0 [copies]: the cases every run
# ends with. Premapped (auto): at least 99 % of the requests that reached an
# NVMe with a tag premapped, and some (unless the array copies writes
# through its own pages: raid5's stripe cache); off: no tag anywhere.
run_end() {
	local l=$1 top=$2 mode=$3 t0=$4 l0=$5 r0=$6 copies=${7:-}
	say "figure $l: reissued $(($(profile_hits io_req_rw_reissue) - r0)) IO(s)"
	share_at_least "$l-top" "$top" "$t0" 0
	if [ "$mode" = auto ]; then
		set -- $l0 $(leaf_share)
		say "$l-leaves: premapped +$(($3 - $1)) fallback +$(($4 - $2))"
		check "$l-premapped" leaves_ok $(($3 - $1)) $(($4 - $2)) "$copies"
	else
		check "$l-plain" test "$(share "$top") $(leaf_share)" = "$t0 $l0"
	fi
}

# md_run LABEL MODE fail|replace OLD NEW [copies]: one swap of md0's member
# OLD for NEW (namespace names) under big_fio
md_run() {
	local l=$1 mode=$2 op=$3 old=/dev/$4 new=/dev/$5 t0 l0 r0
	premap_mode md0 "$mode"
	t0=$(share md0) l0=$(leaf_share) r0=$(profile_hits io_req_rw_reissue)
	# the rebuild at about 8 MiB/s, so that it runs as long as fio does
	echo 4096 >/sys/block/md0/md/sync_speed_min
	echo 8192 >/sys/block/md0/md/sync_speed_max
	big_fio "$l" /dev/md0
	sleep 3
	if [ "$op" = fail ]; then
		check "$l-fail-remove" md_drop md0 "$old"
		check "$l-add" mdadm /dev/md0 --add "$new"
	else
		check "$l-spare" mdadm /dev/md0 --add "$new"
		check "$l-replace" mdadm /dev/md0 --replace "$old" --with "$new"
	fi
	check "$l-fio" big_fio_ok "$l"
	md_show md0 "after fio"
	echo system >/sys/block/md0/md/sync_speed_min
	echo system >/sys/block/md0/md/sync_speed_max
	if [ "$op" = fail ]; then
		check "$l-rebuilt" md_recover md0
	else
		echo 200000 >/proc/sys/dev/raid/speed_limit_min
		check "$l-replaced" wait_for 300 md_replaced md0 "$4"
		check "$l-remove-old" md_drop md0 "$old"
	fi
	check "$l-check" md_checked md0
	run_end "$l" md0 "$mode" "$t0" "$l0" "$r0" $6
	mdadm --zero-superblock "$old"
}

# wipe NS...: zeros over what the arrays use of each namespace, so that a
# new array's check pass compares what this test wrote
wipe() {
	local d
	for d in "$@"; do
		dd if=/dev/zero of="/dev/$d" bs=1M count=$((SIZE_MB + 8)) oflag=direct 2>/dev/null || return 1
	done
}

# md_fresh LEVEL MEMBERS...: a new md0 over wiped MEMBERS (the spare n4
# wiped too)
md_fresh() {
	local level=$1 devs= d
	shift
	wipe "$@" "$n4" || return 1
	for d in "$@"; do devs="$devs /dev/$d"; done
	md_create md0 "$level" $devs -- --size=${SIZE_MB}M
}

# md_level PREFIX LEVEL [copies] [splits] MEMBERS...: for each mode a fresh
# array, a fail/add run (the first member goes, the spare n4 comes) and a
# replace run (the first member comes back for n4); "splits": the level
# splits writes at chunk boundaries (raid10's 512 KiB), and the runs must
# have made io_uring reissue some
md_level() {
	local p=$1 level=$2 copies= splits= mode devs= d r0
	shift 2
	[ "$1" = copies ] && { copies=copies; shift; }
	[ "$1" = splits ] && { splits=splits; shift; }
	for d in "$@"; do devs="$devs /dev/$d"; done
	for mode in auto off; do
		check "$p-$mode-create" md_fresh "$level" "$@"
		r0=$(profile_hits io_req_rw_reissue)
		md_run "$p-$mode-fail" "$mode" fail "$1" "$n4" $copies
		md_run "$p-$mode-replace" "$mode" replace "$n4" "$1" $copies
		# the case this test is for happened: md failed nowait writes
		# (whole, or the part after a split) during the rebuild, and
		# io_uring reissued them
		[ -z "$splits" ] ||
			check "$p-$mode-reissued" test "$(profile_hits io_req_rw_reissue)" -gt "$r0"
		check "$p-$mode-stop" mdadm --stop /dev/md0
		mdadm --zero-superblock $devs "/dev/$n4" 2>/dev/null
	done
}

md_level r1 1 "$n0" "$n1"
md_level r10 10 splits "$n0" "$n1" "$n2" "$n3"
md_level r5 5 copies "$n0" "$n1" "$n2" "$n3"

# --- the dm raid target: raid1 over dm-linear legs ---------------------------
# leg I NVME: dm-linear mI (4 MiB of metadata) and dI (SIZE_MB of data) on NVME
LEG_SECTORS=$((SIZE_MB * 2048))
leg() {
	dd if=/dev/zero of="/dev/$2" bs=1M count=4 oflag=direct 2>/dev/null &&
		dm_create "m$1" "0 8192 linear /dev/$2 0" &&
		dm_create "d$1" "0 $LEG_SECTORS linear /dev/$2 8192"
}

# raid_table [rebuild I] A B: a raid1 table over legs A and B; a rebuild
# of leg I at about 8 MiB/s, so that it runs as long as fio does
raid_table() {
	local params="1 0"
	[ "$1" = rebuild ] && { params="5 0 rebuild $2 max_recovery_rate 8192"; shift 2; }
	echo "0 $LEG_SECTORS raid raid1 $params 2 /dev/mapper/m$1 /dev/mapper/d$1 /dev/mapper/m$2 /dev/mapper/d$2"
}

# dmr_field N: field N of "dmsetup status dr"
dmr_field() {
	dm status dr | awk -v n="$1" '{ print $n }'
}

# dmr_synced: both legs alive and in sync, nothing running
dmr_synced() {
	[ "$(dmr_field 6)" = AA ] && [ "$(dmr_field 8)" = idle ] &&
		[ "$(dmr_field 7)" = "$LEG_SECTORS/$LEG_SECTORS" ]
}

dmr_failed() { [ "$(dmr_field 6)" != AA ]; }

# dmr_reload TABLE: the new table for dr, swapped in under running IO
dmr_reload() {
	dm load dr --table "$1" && dm suspend dr && dm resume dr
}

# dm_leg_error I: leg I's data turns to an error target (a failed disk)
dm_leg_error() {
	dm load "d$1" --table "0 $LEG_SECTORS error" && dm suspend "d$1" && dm resume "d$1"
}

dmr_checked() {
	dm message dr 0 check || return 1
	sleep 1
	wait_for 300 dmr_synced || { say "dr: $(dm status dr)"; return 1; }
	say "dr check: $(dm status dr)"
	[ "$(dmr_field 9)" = 0 ]
}

# dmr_run LABEL MODE fail|replace OLD NEW NVME: leg OLD (the second) leaves,
# a fresh leg NEW on NVME is rebuilt in its place
dmr_run() {
	local l=$1 mode=$2 op=$3 old=$4 new=$5 dr t0 l0 r0
	dr=$(dm_disk dr)
	premap_mode "$dr" "$mode"
	check "$l-leg" leg "$new" "$6"
	t0=$(share "$dr") l0=$(leaf_share) r0=$(profile_hits io_req_rw_reissue)
	big_fio "$l" /dev/mapper/dr
	sleep 3
	if [ "$op" = fail ]; then
		check "$l-leg-error" dm_leg_error "$old"
		check "$l-failed" wait_for 30 dmr_failed
		say "dr: $(dm status dr)"
	fi
	check "$l-rebuild" dmr_reload "$(raid_table rebuild 1 0 "$new")"
	say "dr: $(dm status dr)"
	check "$l-fio" big_fio_ok "$l"
	check "$l-rebuilt" wait_for 300 dmr_synced
	check "$l-check" dmr_checked
	run_end "$l" "$dr" "$mode" "$t0" "$l0" "$r0"
	dm remove "m$old" && dm remove "d$old"
}

for mode in auto off; do
	check "dmr-$mode-legs" eval 'wipe "$n0" "$n1" "$n2" "$n3" && leg 0 "$n0" && leg 1 "$n1"'
	check "dmr-$mode-create" dm_create dr "$(raid_table 0 1)"
	check "dmr-$mode-synced" wait_for 300 dmr_synced
	dmr_run "dmr-$mode-fail" "$mode" fail 1 2 "$n2"
	dmr_run "dmr-$mode-replace" "$mode" replace 2 3 "$n3"
	check "dmr-$mode-remove" dm remove dr
	dm remove m0 && dm remove d0 && dm remove m3 && dm remove d3
done

# --- the punt rate on a healthy array ---------------------------------------
# io-wq work items per IO for 4 KiB random writes on a clean raid1: the
# nowait fast path stays the path
# punts LABEL MODE [FIO ARGS]: sets PUNTS, io-wq work items in the run
punts() {
	local w0 l=$1
	premap_mode md0 "$2"
	shift 2
	w0=$(profile_hits io_wq_submit_work)
	dma_count "$l" --filename=/dev/md0 $FIO_URING --rw=randwrite --bs=4k \
		--iodepth=32 --size=32M --io_size=16M "$@" || return 1
	PUNTS=$(($(profile_hits io_wq_submit_work) - w0))
	say "figure $l: io-wq $PUNTS in $DC_IOS IOs ($(per_io "$PUNTS" "$DC_IOS") per IO), map/io $DC_MAP"
	[ "$DC_IOS" -gt 0 ]
}

# punts_low LABEL MODE: at most 0.01 per IO
punts_low() {
	punts "$1" "$2" && [ $((PUNTS * 100)) -le "$DC_IOS" ]
}

# punts_counted: the count sees punts; fio's force_async=1 sends every IO
# through io-wq
punts_counted() {
	punts punt-forced off --force_async=1 && [ $((PUNTS * 10)) -ge $((DC_IOS * 9)) ]
}

check punt-create md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=${SIZE_MB}M
check punt-warmup fio_verify punt-warm /dev/md0 --size=16M
check punt-auto punts_low punt-auto auto
check punt-off punts_low punt-off off
check punt-counted punts_counted
check punt-stop mdadm --stop /dev/md0
