# SPDX-License-Identifier: GPL-2.0
# timeout: 1200
# cases: 170
# Premapped IO through md (composite DMA tags over the devices of the
# personality): raid0 over 4 NVMe, raid1 over 2, raid10 over 4, raid5 over
# 4, and dm linear over md raid10 (nested). Each: dmatag-io verify with an
# explicit map (premapped against plain data, 512 B .. 1 MiB), per-IO counts
# 0/0/0 for 4 KiB random reads (strict IOMMU: plain is 1/1/1) side by side
# with the same reads plain, stock fio verify in auto mode. raid5 premaps
# only reads inside one chunk (its writes go through the stripe cache): its
# random writes are counted too, and plain.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
all="/dev/$n0 /dev/$n1 /dev/$n2 /dev/$n3"

# md0 clean: its superblock is written, reads will not write it again
md_clean() { wait_for 10 grep -qx clean /sys/block/md0/md/array_state; }
SETTLE=md_clean

md_gone() { # md_gone MD DEVS...: stop MD and wipe its members' superblocks
	local md=$1
	shift
	mdadm --stop "/dev/$md" && mdadm --zero-superblock "$@"
}

check raid0-create md_create md0 0 $all -- --chunk=64
premap_stack raid0 /dev/md0 md0
check raid0-stop md_gone md0 $all

check raid1-create md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=256M
premap_stack raid1 /dev/md0 md0
check raid1-stop md_gone md0 "/dev/$n0" "/dev/$n1"

check raid10-create md_create md0 10 $all -- --size=256M
premap_stack raid10 /dev/md0 md0
check raid10-stop md_gone md0 $all

# raid5: verify reads of up to 1 MiB at random offsets, many across chunks;
# of its fixed IOs (half of them writes) at least 20 % are premapped reads
check raid5-create md_create md0 5 $all -- --size=256M
premap_stack raid5 /dev/md0 md0 --min-share 20
check raid5-write-count-run load_count raid5-write /dev/md0 --write
check raid5-writes-plain test "$(awk -v m="$LC_MAP" 'BEGIN { print (m >= 1) }')" = 1
check raid5-plain-write-count-run load_count raid5-plain-write /dev/md0 --write --plain
check raid5-stop md_gone md0 $all

# nested: dm linear over md raid10
check nested-create md_create md0 10 $all -- --size=256M
check nested-dm-create dm_create top "0 $(sectors md0) linear /dev/md0 0"
inner0=$(share md0) top0=$(share "$(dm_disk top)")
premap_stack dm-over-raid10 /dev/mapper/top "$(dm_disk top)"
check nested-md-premapped nested_premapped md0 "$inner0" "$(dm_disk top)" "$top0"
dm_remove top
check nested-md-no-leak no_leak md0
check nested-stop md_gone md0 $all

# every buffer mapped on the NVMe disks was unmapped again
for d in "$n0" "$n1" "$n2" "$n3"; do
	check "$d-no-leak" no_leak "$d"
done
