# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# alone: yes
# cases: 57
# Tearing a stack down the moment fio exits, as scripts and test suites do:
# stock fio (io_uring, registered files and buffers, 32 buffers of 4 KiB and
# of 128 KiB) on dm striped x4, dm raid1 (the raid target), md raid1 and md
# raid10 x4, then at once one dmsetup remove / mdadm --stop. With the stack
# in auto mode it must succeed on the first try, as with dma_premap=off, and
# the time from fio's exit until the device is gone must be within 0.3 s of
# off's, measured in the same boot (reported side by side). Nothing of the
# premapped buffers is left afterwards.
# Then IORING_REGISTER_UNMAP_BUFFERS with IO held by a suspended dm device:
# it returns without waiting for the IO, kill -9 ends the process at once,
# the mappings stay while the IO is held and are undone when the resume
# completes it.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
[ -n "$n3" ] || say "not enough NVMe disks"

# stack_create KIND: the stack KIND with its disk in SK_DISK and its
# device node in SK_DEV
stack_create() {
	local sz
	case $1 in
	dm-striped)
		dm_create td "$(striped_table "$n0" "$n1" "$n2" "$n3")" || return 1
		SK_DEV=/dev/mapper/td SK_DISK=$(dm_disk td) ;;
	dm-raid1)
		sz=$((262144 / 8192 * 8192))
		dm_create td "0 $sz raid raid1 3 0 region_size 8192 2 - /dev/$n0 - /dev/$n1" || return 1
		SK_DEV=/dev/mapper/td SK_DISK=$(dm_disk td) ;;
	md-raid1)
		md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M || return 1
		SK_DEV=/dev/md0 SK_DISK=md0 ;;
	md-raid10)
		md_create md0 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" -- --size=64M || return 1
		SK_DEV=/dev/md0 SK_DISK=md0 ;;
	esac
}

# stack_remove_once KIND: one try, as a script makes it
stack_remove_once() {
	case $1 in
	dm-*) dm remove td ;;
	md-*) mdadm --stop /dev/md0 ;;
	esac
}

stack_gone() {
	case $1 in
	dm-*) ! DM_DISABLE_UDEV=1 dmsetup info td >/dev/null 2>&1 ;;
	md-*) ! grep -q '^md0 ' /proc/mdstat ;;
	esac
}

# teardown_run KIND MODE BS: fio on the stack in MODE, then at once one
# removal; sets TD_FIRST (yes/no: the first try succeeded) and TD_CS
# (centiseconds from fio's exit until the removal succeeded)
teardown_run() {
	local kind=$1 mode=$2 bs=$3 label="$1-$3-$2" t0 rc
	TD_FIRST=no TD_CS=
	stack_create "$kind" || return 1
	premap_mode "$SK_DISK" "$mode"
	fio --name="$label" --filename="$SK_DEV" $FIO_URING --iodepth=32 \
		--rw=randread --bs="$bs" --size=32M --time_based --runtime=2 \
		>"/tmp/fio-$label.log" 2>&1
	rc=$?
	t0=$(up_cs)
	if stack_remove_once "$kind" 2>"/tmp/rm-$label.err"; then
		TD_FIRST=yes
	else
		say "$label: first removal failed: $(cat "/tmp/rm-$label.err")"
		wait_for 20 stack_remove_once "$kind"
	fi
	TD_CS=$(($(up_cs) - t0))
	wait_for 10 stack_gone "$kind"
	say "$label: fio rc $rc $(grep -o 'IOPS=[^,]*' "/tmp/fio-$label.log"), removed on the first try: $TD_FIRST, $TD_CS cs after fio exited"
	for d in "$n0" "$n1" "$n2" "$n3"; do
		mdadm --zero-superblock "/dev/$d" >/dev/null 2>&1
	done
	[ "$rc" -eq 0 ]
}

for kind in dm-striped dm-raid1 md-raid1 md-raid10; do
	for bs in 4k 128k; do
		check "$kind-$bs-off-run" teardown_run "$kind" off "$bs"
		check "$kind-$bs-off-first-try" test "$TD_FIRST" = yes
		off=${TD_CS:-0}
		check "$kind-$bs-auto-run" teardown_run "$kind" auto "$bs"
		check "$kind-$bs-auto-first-try" test "$TD_FIRST" = yes
		say "teardown $kind $bs: auto $TD_CS cs, off $off cs"
		check "$kind-$bs-within-0.3s" test "${TD_CS:-999}" -le $((off + 30))
	done
done
for d in "$n0" "$n1" "$n2" "$n3"; do
	check "$d-no-leak" no_leak "$d"
done

# --- UNMAP_BUFFERS while a suspended dm device holds the IO ---------------
check held-create dm_create hl "0 131072 linear /dev/$n0 0"
hl=$(dm_disk hl)
rm -f /tmp/held.go
dmatag-io held /dev/mapper/hl --go /tmp/held.go >/tmp/held.log 2>&1 &
held=$!
check held-mapped wait_for 20 grep -q '^mapped' /tmp/held.log
check held-suspend dm suspend hl
touch /tmp/held.go
# with the IO held, the unmap used to wait for it, uninterruptibly, holding
# uring_lock
check held-unmap-returns wait_for 10 grep -q '^unmap returned 0' /tmp/held.log
sed -n 's/^unmap returned/held: unmap returned/p' /tmp/held.log
# the dm device's tags are unmapped, but their mappings stay (maps ahead
# of unmaps, still counted in mapped_bytes) as long as the IO holds them,
# and with them their member tags on the NVMe
retiring() { test "$(dma_tag "$1" mapped_bytes)" -gt 0 && test "$(dma_tag "$1" maps)" -gt "$(dma_tag "$1" unmaps)"; }
sleep 1
check held-still-mapped retiring "$hl"
check held-member-still-mapped test "$(dma_tag "$n0" mapped_bytes)" -gt 0
kill -9 "$held"
proc_gone() { ! kill -0 "$1" 2>/dev/null; }
check held-kill-ends-process wait_for 5 proc_gone "$held"
wait "$held" 2>/dev/null
# the ring's exit work waits for the held IO; its mappings stay meanwhile
sleep 1
check held-mapped-while-suspended test "$(dma_tag "$n0" mapped_bytes)" -gt 0
check held-resume dm resume hl
check held-released wait_for 15 no_leak "$hl"
check held-member-released wait_for 15 no_leak "$n0"
check held-remove dm_remove hl
check held-counters test "$(dma_tag "$n0" mapped_bytes)" -eq 0
