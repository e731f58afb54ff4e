# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# disks: 5
# cases: 16
# A hot-swap under a filesystem: XFS on md raid10 over four NVMe, stock fio
# write+verify on a file in auto mode while a member is failed, removed,
# and a fresh NVMe added and rebuilt. fio sees no error, the premapped share
# is at least 99 % before, while degraded and after recovery, the buffers
# are remapped onto the new member, and xfs_repair finds nothing after.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
n4=$(nvme_ns_of nv4)
M=/mnt/fs

check create md_create md0 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" -- --size=512M
check mkfs fs_make xfs /dev/md0
check mount fs_mount xfs /dev/md0 "$M"
premap_mode md0 auto
swap_begin md0 "$n4"
bg_fio xfs-swap "$M/f" 40
io_started md0
sleep 4
c0=$(share md0)
sleep 3
check share-before share_at_least before md0 "$c0" 99
check fail-remove md_drop md0 "/dev/$n1"
check leaver-released no_leak "$n1"
c1=$(share md0)
sleep 3
check share-degraded share_at_least degraded md0 "$c1" 99
c2=$(share md0)
check add mdadm /dev/md0 --add "/dev/$n4"
check rebuilt md_recover md0
share_at_least recovering md0 "$c2" 0
swap_end swap md0 md0 "$n4" xfs-swap
premap_mode md0 on
check umount umount "$M"
check xfs-repair fs_check xfs /dev/md0
check stop mdadm --stop /dev/md0
mdadm --zero-superblock "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" "/dev/$n4"
