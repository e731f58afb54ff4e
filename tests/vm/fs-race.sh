# SPDX-License-Identifier: GPL-2.0
# timeout: 1500
# cases: 130
# The review's truncate question, with evidence: premapped direct reads and
# writes of known patterns on a file race ftruncate, FALLOC_FL_PUNCH_HOLE,
# COLLAPSE_RANGE, INSERT_RANGE and, on XFS, FICLONERANGE and
# XFS_IOC_SWAPEXT from another thread (tools/dmatag-fsrace.c), on ext4 and
# XFS over raw NVMe and over md raid10. Every read returns what the model of
# the file says, or, when it raced an operation, old or new data or zeroes;
# no IO fails. The same run with plain buffers is the reference; the disk
# must have counted the premapped run's IO as premapped, and none of the
# plain run's. fsck finds nothing after.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
M=/mnt/fs
SECONDS_EACH=${SECONDS_EACH:-6}

# race LABEL FS DEV DISK OPS
race() {
	local label=$1 fs=$2 dev=$3 disk=$4 ops=$5 c
	check "$label-mkfs" fs_make "$fs" "$dev"
	check "$label-mount" fs_mount "$fs" "$dev" "$M"
	c=$(share "$disk")
	tool_cases "$label-premapped" dmatag-fsrace "$M/race" --ops "$ops" \
		--seconds "$SECONDS_EACH"
	check "$label-premapped-counted" share_at_least "$label-premapped" "$disk" "$c" 99
	check "$label-premapped-released" no_leak "$disk"
	c=$(share "$disk")
	tool_cases "$label-plain" dmatag-fsrace "$M/race" --ops "$ops" \
		--seconds "$SECONDS_EACH" --plain
	check "$label-plain-not-premapped" test "$(share "$disk")" = "$c"
	check "$label-umount" umount "$M"
	check "$label-fsck" fs_check "$fs" "$dev"
}

EXT4_OPS=trunc,punch,collapse,insert
XFS_OPS=trunc,punch,collapse,insert,clone,swap

race ext4-raw ext4 "/dev/$n0" "$n0" "$EXT4_OPS"
race xfs-raw xfs "/dev/$n0" "$n0" "$XFS_OPS"

check raid10-create md_create md0 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" -- --size=512M
race ext4-raid10 ext4 /dev/md0 md0 "$EXT4_OPS"
race xfs-raid10 xfs /dev/md0 md0 "$XFS_OPS"
check raid10-stop mdadm --stop /dev/md0
mdadm --zero-superblock "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3"
