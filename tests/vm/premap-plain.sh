# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# alone: yes
# cases: 125
# Auto mode for fixed buffers through plain descriptors, the fio command
# line most people write (--fixedbufs=1 without --registerfiles): stock
# fio in auto mode on raw NVMe, dm striped x4 and md raid10 x4 premaps at
# least 99 % of its IO with no map, unmap or flush per IO beyond the
# buffers' first use, as with --registerfiles=1 and against off, side by
# side. dmatag-io plain: one mapping per device for a buffer used through
# two descriptors of one device and through two devices, kept after the
# descriptors close, the least recently used device evicted beyond
# kernel.io_uring_premap_max_devices, every byte compared. Tearing dm and
# md down right after such a fio: first try, within 0.3 s of off. A
# descriptor closed with IO in flight and the process gone, and kill -9
# of fio mid-IO: nothing stays mapped.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
[ -n "$n3" ] || say "not enough NVMe disks"
FIO_PLAIN=$FIO_FIXEDBUFS
MEMBERS="$n0 $n1 $n2 $n3"

# fio_run LABEL DEV ENGINE: 4096 random 4 KiB reads at queue depth 32
# (32 buffers) under the profiler
fio_run() {
	dma_count "$1" --filename="$2" $3 --rw=randread --bs=4k --iodepth=32 \
		--size=64M --io_size=16M --randrepeat=0
}

# member_maps DISKS...: the tags made on DISKS so far, summed
member_maps() {
	local d n=0
	for d in "$@"; do n=$((n + $(dma_tag "$d" maps))); done
	echo "$n"
}

# plain_rows LABEL DEV DISK NR MEMBERS: auto mode through plain descriptors
# and through registered files, then off, on DEV (counters of DISK, NR
# members named in MEMBERS)
plain_rows() {
	local label=$1 dev=$2 disk=$3 m=$4 members=$5 c bound mm r
	# first use maps each of the 32 buffers once per member; at exit the
	# ring unmaps them (maybe after fio's end); in strict mode an IOTLB
	# flush at the map (caching mode) and at the unmap
	bound=$((32 * m))
	premap_mode "$disk" auto
	for engine in plain registered; do
		# md writes its superblock from its own pages a moment after
		# a change: not inside the count
		check "$label-$engine-quiet" disks_quiet
		c=$(share "$disk") mm=$(member_maps $members) r=$(dma_tag "$disk" remaps)
		if [ "$engine" = plain ]; then
			check "$label-$engine-run" fio_run "$label-$engine" "$dev" "$FIO_PLAIN"
		else
			check "$label-$engine-run" fio_run "$label-$engine" "$dev" "$FIO_URING"
		fi
		check "$label-$engine-ios" test "$DC_IOS" -eq 4096
		say "$label-$engine: member tags made +$(($(member_maps $members) - mm)), $disk remaps +$(($(dma_tag "$disk" remaps) - r))"
		check "$label-$engine-share-99" share_at_least "$label-$engine" "$disk" "$c" 99
		check "$label-$engine-map-first-use-only" test "$DC_MAP_N" -le "$bound"
		check "$label-$engine-unmap-first-use-only" test "$DC_UNMAP_N" -le "$bound"
		check "$label-$engine-flush-first-use-only" test "$DC_FLUSH_N" -le $((2 * bound))
		eval "${engine}_calls=\"$DC_MAP_N/$DC_UNMAP_N/$DC_FLUSH_N\" ${engine}_iops=$DC_IOPS"
		check "$label-$engine-released" no_leak "$disk"
	done
	premap_mode "$disk" off
	c=$(share "$disk")
	check "$label-off-run" fio_run "$label-off" "$dev" "$FIO_PLAIN"
	check "$label-off-map-1" near "$DC_MAP" 1
	check "$label-off-not-premapped" test "$(share "$disk")" = "$c"
	premap_mode "$disk" on
	say "row $label: calls map/unmap/flush in 4096 IOs: plain descriptors $plain_calls ($plain_iops IOPS), registered files $registered_calls ($registered_iops IOPS), off $DC_MAP_N/$DC_UNMAP_N/$DC_FLUSH_N ($DC_IOPS IOPS)"
}

plain_rows raw "/dev/$n0" "$n0" 1 "$n0"
check dm-striped-create dm_create str "$(striped_table $MEMBERS)"
plain_rows dm-striped /dev/mapper/str "$(dm_disk str)" 4 "$MEMBERS"
check dm-striped-remove dm remove str
check md-raid10-create md_create md0 10 /dev/$n0 /dev/$n1 /dev/$n2 /dev/$n3 -- --size=64M
# the first open of a new array reads its partition table, plain IO: before
# the counts
dd if=/dev/md0 of=/dev/null bs=4k count=1 2>/dev/null
check md-raid10-quiet disks_quiet
plain_rows md-raid10 /dev/md0 md0 4 "$MEMBERS"
check md-raid10-stop mdadm --stop /dev/md0
for d in $MEMBERS; do
	mdadm --zero-superblock "/dev/$d" >/dev/null 2>&1
	check "$d-rows-no-leak" no_leak "$d"
done

# --- one mapping per device, eviction, data -------------------------------
for d in "$n0" "$n1" "$n2"; do premap_mode "$d" auto; done
tool_cases plain dmatag-io plain "/dev/$n0" --dev2 "/dev/$n1" --dev3 "/dev/$n2"
for d in "$n0" "$n1" "$n2"; do premap_mode "$d" on; done

# --- teardown right after fio through plain descriptors -------------------
# td_run KIND MODE: fio, then at once one removal; TD_FIRST, TD_CS
td_run() {
	local kind=$1 mode=$2 label="td-$1-$2" disk dev t0
	TD_FIRST=no TD_CS=
	case $kind in
	dm) dm_create td "$(striped_table $MEMBERS)" || return 1
	    dev=/dev/mapper/td disk=$(dm_disk td) ;;
	md) md_create md1 10 /dev/$n0 /dev/$n1 /dev/$n2 /dev/$n3 -- --size=64M || return 1
	    dev=/dev/md1 disk=md1 ;;
	esac
	premap_mode "$disk" "$mode"
	fio --name="$label" --filename="$dev" $FIO_PLAIN --iodepth=32 \
		--rw=randread --bs=128k --size=32M --time_based --runtime=2 \
		>"/tmp/fio-$label.log" 2>&1 || { tail -n 20 "/tmp/fio-$label.log"; return 1; }
	t0=$(up_cs)
	case $kind in
	dm) dm remove td 2>"/tmp/rm-$label.err" && TD_FIRST=yes ;;
	md) mdadm --stop /dev/md1 2>"/tmp/rm-$label.err" && TD_FIRST=yes ;;
	esac
	if [ "$TD_FIRST" = no ]; then
		say "$label: first removal failed: $(cat "/tmp/rm-$label.err")"
		case $kind in
		dm) wait_for 20 dm remove td ;;
		md) wait_for 20 mdadm --stop /dev/md1 ;;
		esac
	fi
	TD_CS=$(($(up_cs) - t0))
	for d in $MEMBERS; do mdadm --zero-superblock "/dev/$d" >/dev/null 2>&1; done
	say "$label: $(grep -o 'IOPS=[^,]*' "/tmp/fio-$label.log"), removed on the first try: $TD_FIRST, $TD_CS cs after fio exited"
}
# off and auto alternate, twice each: the fastest of each is compared (one
# removal varies by +-0.2 s under TCG)
for kind in dm md; do
	off=999 auto=999
	for rep in 1 2; do
		for mode in off auto; do
			check "td-$kind-$mode-$rep-run" td_run "$kind" "$mode"
			check "td-$kind-$mode-$rep-first-try" test "$TD_FIRST" = yes
			cs=${TD_CS:-999}
			if [ "$mode" = off ]; then
				[ "$cs" -lt "$off" ] && off=$cs
			else
				[ "$cs" -lt "$auto" ] && auto=$cs
			fi
		done
	done
	say "teardown $kind through plain descriptors, fastest of 2: auto $auto cs, off $off cs"
	check "td-$kind-within-0.3s" test "$auto" -le $((off + 30))
done
for d in $MEMBERS; do
	check "$d-teardown-no-leak" no_leak "$d"
done

# --- a descriptor closed with IO in flight, then exit -----------------------
tool_cases closefd dmatag-io closefd "/dev/$n0"
check closefd-unmapped no_leak "$n0"
check closefd-mapped-bytes-0 test "$(dma_tag "$n0" mapped_bytes)" -eq 0

# --- kill -9 of fio mid-IO, plain descriptors, on dm striped -----------------
check kill-create dm_create kl "$(striped_table $MEMBERS)"
kl=$(dm_disk kl)
premap_mode "$kl" auto
c=$(share "$kl")
fio --name=kill --filename=/dev/mapper/kl $FIO_PLAIN --iodepth=32 \
	--rw=randrw --bs=64k --size=32M --time_based --runtime=60 --thread \
	>/tmp/fio-kill.log 2>&1 &
kpid=$!
premapped_grew() { [ "$(dma_tag "$kl" premapped_ios)" -gt "${c% *}" ]; }
check kill-io-premapped wait_for 30 premapped_grew
kill -9 "$kpid"
wait "$kpid" 2>/dev/null
check kill-remove-first-try dm remove kl
for d in $MEMBERS; do
	check "$d-kill-no-leak" no_leak "$d"
	check "$d-kill-mapped-bytes-0" test "$(dma_tag "$d" mapped_bytes)" -eq 0
done
