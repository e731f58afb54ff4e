# SPDX-License-Identifier: GPL-2.0
# timeout: 1800
# cases: 250
# Premapped direct IO on files: ext4 and XFS over raw NVMe, dm striped x4,
# md raid10 x4 and dm linear over md raid10. For each: stock fio on a file
# (io_uring, registered file and buffers, O_DIRECT) in auto mode, random
# writes then verifying reads, 4 KiB and 128 KiB, with at least 99 % of the
# disk's tagged IO premapped; dmatag-io verify with an explicit map on a
# file (1 MiB buffers); per-IO counts of 4 KiB random reads on the frozen filesystem, 0/0/0
# premapped and 1 map per IO plain in the same boot; fsck clean after.
# Then the bad inputs and lifetimes of files: a file opened without
# O_DIRECT (maps; buffered IO stays plain, fcntl O_DIRECT premaps), a
# realtime file on XFS (mapped on the realtime device), a filesystem
# unmounted lazily while a ring holds a premapped file (the mapping goes
# with the ring, the device is free after).
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
M=/mnt/fs

# fs_stack LABEL FS DEV DISK: the cases above for FS made on DEV, whose
# premapping is DISK's
fs_stack() {
	local label=$1 fs=$2 dev=$3 disk=$4 c
	check "$label-mkfs" fs_make "$fs" "$dev"
	check "$label-mount" fs_mount "$fs" "$dev" "$M"
	premap_mode "$disk" auto
	c=$(share "$disk")
	check "$label-fio-4k" fio_verify "$label-4k" "$M/f4k" --bs=4k --size=4M
	check "$label-fio-128k" fio_verify "$label-128k" "$M/f" --bs=128k --size=32M
	check "$label-fio-share" share_at_least "$label-fio" "$disk" "$c" 99
	premap_mode "$disk" on
	check "$label-fio-released" no_leak "$disk"
	# an explicit map on a file that the IO allocates as it goes; 1 MiB
	# buffers (IOs of 512 B to 1 MiB at 4 buffer pages and sub-page
	# offsets): what a file adds is on the file's side (allocation,
	# unwritten extents, splits at extent ends), and the driver's list
	# boundaries of 5 MiB buffers are verified on the block devices
	# (premap-raw, premap-dm, premap-md). The 5 MiB run took 75-86 s on
	# XFS over raid10 alone.
	truncate -s 16M "$M/v"
	tool_cases "$label-verify" dmatag-io verify "$M/v" --buf-size 1048576
	check "$label-verify-released" no_leak "$disk"
	# 4 KiB random reads of the written file, nothing else on the disk
	sync
	check "$label-freeze" fsfreeze --freeze "$M"
	check "$label-count-run" load_count "$label" "$M/f"
	check "$label-map-0" exactly_zero "$LC_MAP_N"
	check "$label-unmap-0" exactly_zero "$LC_UNMAP_N"
	check "$label-flush-0" exactly_zero "$LC_FLUSH_N"
	check "$label-plain-count-run" load_count "$label-plain" "$M/f" --plain
	check "$label-plain-map-1" near "$LC_MAP" 1
	check "$label-thaw" fsfreeze --unfreeze "$M"
	check "$label-umount" umount "$M"
	check "$label-fsck" fs_check "$fs" "$dev"
	check "$label-no-leak" no_leak "$disk"
}

for fs in ext4 xfs; do
	fs_stack "$fs-raw" "$fs" "/dev/$n0" "$n0"
done
check striped-create dm_create st "$(striped_table "$n0" "$n1" "$n2" "$n3")"
st=$(dm_disk st)
for fs in ext4 xfs; do
	fs_stack "$fs-striped" "$fs" /dev/mapper/st "$st"
done
check striped-remove dm_remove st

check raid10-create md_create md0 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" -- --size=512M
for fs in ext4 xfs; do
	fs_stack "$fs-raid10" "$fs" /dev/md0 md0
done
check linear-create dm_create lin "0 $(sectors md0) linear /dev/md0 0"
lin=$(dm_disk lin)
for fs in ext4 xfs; do
	fs_stack "$fs-linear-raid10" "$fs" /dev/mapper/lin "$lin"
done
check linear-remove dm_remove lin
check raid10-stop mdadm --stop /dev/md0
mdadm --zero-superblock "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3"

# --- bad input and lifetimes ---------------------------------------------------
check xfs-mkfs fs_make xfs "/dev/$n0"
check xfs-mount fs_mount xfs "/dev/$n0" "$M"
touch "$M/buffered"
tool_cases buffered dmatag-io buffered "$M/buffered"
check buffered-released no_leak "$n0"

# 8 buffers on 4 files of one filesystem (stock fio, auto mode): one
# mapping per buffer, shared by the files, not one per buffer and file
shared_fio() {
	mkdir -p "$M/sh" &&
	fio --name=shared --directory="$M/sh" --nrfiles=4 --filesize=4M \
		--file_service_type=random $FIO_URING --iodepth=8 --rw=randwrite \
		--bs=4k --verify=crc32c --do_verify=1 --verify_fatal=1 \
		>/tmp/fio-shared.log 2>&1 && grep -q 'err= 0' /tmp/fio-shared.log ||
		{ tail -n 20 /tmp/fio-shared.log; return 1; }
}
premap_mode "$n0" auto
m0=$(dma_tag "$n0" maps) c=$(share "$n0")
check shared-fio shared_fio
say "8 buffers on 4 files: $n0 maps +$(($(dma_tag "$n0" maps) - m0))"
check shared-one-map-per-buffer test $(($(dma_tag "$n0" maps) - m0)) -le 8
check shared-premapped share_at_least shared "$n0" "$c" 99
premap_mode "$n0" on
check shared-released no_leak "$n0"

# a ring keeps a premapped file of a lazily unmounted filesystem open: the
# mapping and the filesystem go with the ring, then the disk is free
fio --name=fill --filename="$M/held" --rw=write --bs=1M --size=8M --direct=1 \
	>/tmp/fio-fill.log 2>&1
rm -f /tmp/held-go
dmatag-io held "$M/held" --go /tmp/held-go >/tmp/held.log 2>&1 &
held=$!
check lazy-mapped wait_for 10 grep -qx mapped /tmp/held.log
check lazy-mapped-bytes test "$(dma_tag "$n0" mapped_bytes)" -gt 0
check lazy-umount umount -l "$M"
check lazy-detached sh -c "! grep -q ' $M ' /proc/mounts"
check lazy-still-mapped test "$(dma_tag "$n0" mapped_bytes)" -gt 0
touch /tmp/held-go
check lazy-ring-exit wait "$held"
cat /tmp/held.log
check lazy-released no_leak "$n0"
nothing_mapped() { [ "$(dma_tag "$1" mapped_bytes)" = 0 ]; }
check lazy-mapped-bytes-0 wait_for 10 nothing_mapped "$n0"
# the superblock went with the last file reference: mkfs opens the disk
# exclusively
check lazy-disk-free wait_for 10 fs_make ext4 "/dev/$n0"

# a realtime file on XFS (every file of the root directory, rtinherit) is
# mapped on the realtime device, not the data device, and its IO premapped
# there (6.1 has no reflink with a realtime device)
check rt-mkfs mkfs.xfs -q -f -K -m reflink=0 -d rtinherit=1 -r rtdev="/dev/$n2" "/dev/$n1"
check rt-mount fs_mount xfs "/dev/$n1" "$M" "rtdev=/dev/$n2"
truncate -s 8M "$M/rt"
m1=$(dma_tag "$n1" maps) m2=$(dma_tag "$n2" maps)
tool_cases rt-map dmatag-io map "$M/rt"
say "realtime file: $n1 (data) maps +$(($(dma_tag "$n1" maps) - m1)), $n2 (realtime) maps +$(($(dma_tag "$n2" maps) - m2))"
check rt-mapped-on-rtdev test "$(dma_tag "$n2" maps)" -gt "$m2"
check rt-not-on-datadev test "$(dma_tag "$n1" maps)" -eq "$m1"
premap_mode "$n2" auto
c=$(share "$n2")
check rt-fio fio_verify rt "$M/rt" --size=8M
check rt-fio-share share_at_least rt "$n2" "$c" 99
premap_mode "$n2" on
check rt-umount umount "$M"
rt_check() { xfs_repair -n -r "/dev/$n2" "/dev/$n1" >/tmp/fsck.log 2>&1 || { tail -n 20 /tmp/fsck.log; return 1; }; }
check rt-fsck rt_check
check rt-released no_leak "$n2"
