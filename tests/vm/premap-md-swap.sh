# SPDX-License-Identifier: GPL-2.0
# timeout: 1200
# disks: 5
# cases: 42
# md hot-swaps under running stock fio verify on premapped buffers (auto
# mode; the buffers are mapped once, at fio's first IO, and must follow the
# array's members without fio noticing):
# - raid1: --fail + --remove of a member, --add of a fresh NVMe, recovery;
#   then the old member is failed too and only the rebuilt one serves what
#   was written before the swap;
# - raid10: --replace of a member with a spare;
# - dm linear over md raid10: an md --fail/--remove/--add under the dm device.
# Each logs the premapped share before, while degraded or recovering, and
# after; the share after recovery must be at least 99 %, the leaving member
# must be left with nothing mapped and the joining one must have been mapped.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
n4=$(nvme_ns_of nv4)

# --- raid1: fail, remove, add ------------------------------------------------
check r1-create md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M
check r1-ref-write ref_write /dev/md0
premap_mode md0 auto
swap_begin md0 "$n2"
bg_fio r1 /dev/md0 30
io_started md0
sleep 3
c0=$(share md0)
sleep 3
check r1-share-before share_at_least r1-before md0 "$c0" 100
check r1-fail-remove md_drop md0 "/dev/$n1"
check r1-leaver-released no_leak "$n1"
c1=$(share md0)
sleep 3
check r1-share-degraded share_at_least r1-degraded md0 "$c1" 100
c2=$(share md0)
check r1-add mdadm /dev/md0 --add "/dev/$n2"
check r1-rebuilt md_recover md0
share_at_least r1-recovering md0 "$c2" 0
swap_end r1 md0 md0 "$n2" r1
premap_mode md0 on
check r1-old-member-out md_drop md0 "/dev/$n0"
check r1-rebuilt-data ref_verify /dev/md0
check r1-stop mdadm --stop /dev/md0
mdadm --zero-superblock "/dev/$n0" "/dev/$n1" "/dev/$n2"

# --- raid10: replace a member with a spare -----------------------------------
check r10-create md_create md1 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" -- --size=128M
premap_mode md1 auto
swap_begin md1 "$n4"
bg_fio r10 /dev/md1 30
io_started md1
sleep 3
c0=$(share md1)
check r10-spare mdadm /dev/md1 --add "/dev/$n4"
check r10-replace mdadm /dev/md1 --replace "/dev/$n1" --with "/dev/$n4"
echo 200000 >/proc/sys/dev/raid/speed_limit_min
check r10-replaced wait_for 300 md_replaced md1 "$n1"
md_show md1 replaced
share_at_least r10-replacing md1 "$c0" 0
check r10-remove-old md_drop md1 "/dev/$n1"
check r10-leaver-released no_leak "$n1"
swap_end r10 md1 md1 "$n4" r10
premap_mode md1 on

# --- dm linear over md raid10: an md hot-swap under the dm device -------------
mdadm --zero-superblock "/dev/$n1"
check nested-dm-create dm_create top "0 $(sectors md1) linear /dev/md1 0"
top=$(dm_disk top)
premap_mode "$top" auto
swap_begin md1 "$n1"
bg_fio nested /dev/mapper/top 30
io_started "$top"
sleep 3
c0=$(share "$top")
sleep 3
check nested-share-before share_at_least nested-before "$top" "$c0" 100
check nested-fail-remove md_drop md1 "/dev/$n2"
check nested-leaver-released no_leak "$n2"
c1=$(share "$top")
check nested-add mdadm /dev/md1 --add "/dev/$n1"
check nested-rebuilt md_recover md1
share_at_least nested-recovering "$top" "$c1" 0
swap_end nested md1 "$top" "$n1" nested
premap_mode "$top" on
dm_remove top
check nested-md-no-leak no_leak md1
check nested-stop mdadm --stop /dev/md1
for d in "$n0" "$n1" "$n2" "$n3" "$n4"; do
	check "$d-no-leak" no_leak "$d"
done
