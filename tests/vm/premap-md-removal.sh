# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# cases: 23
# Surprise removal (QMP device_del) of an md raid1 member under running
# stock fio verify on premapped buffers (auto mode): the member's mappings
# are revoked with its controller, md fails it, IO to the surviving member
# stays premapped; a fresh controller plugged into the same port is added
# and rebuilt, gets mapped, and the premapped share recovers; then the old
# member is failed and the rebuilt one alone serves what was written before.
# A controller reset of the surviving member under the same fio keeps its
# mappings and IO premapped. Nothing in the kernel log complains.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1)

ctrl_of() { echo "${1%n[0-9]*}"; } # ctrl_of nvme0n1: nvme0
nvme_reset() { echo 1 >"/sys/class/nvme/$1/reset_controller"; } # nvme_reset nvme0

check create md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M
check ref-write ref_write /dev/md0
premap_mode md0 auto
bg_fio rm /dev/md0 45
io_started md0
sleep 3
c0=$(share md0)
sleep 3
check share-before share_at_least before md0 "$c0" 100
check member-mapped test "$(dma_tag "$n1" mapped_bytes)" -gt 0
check unplug host_unplug nv1
check member-failed wait_for 30 md_is md0 "[U_]"
check remove-detached md_drop md0 detached
c1=$(share md0)
sleep 3
check share-degraded share_at_least degraded md0 "$c1" 100
check plug host_plug nv1
n1=$(nvme_ns_of nv1)
swap_begin md0 "$n1"
c2=$(share md0)
check add mdadm /dev/md0 --add "/dev/$n1"
check rebuilt md_recover md0
share_at_least recovering md0 "$c2" 0
# a controller reset keeps the mappings (the IOMMU domain belongs to the PCI
# device): IO continues premapped across it
c4=$(share md0)
check reset nvme_reset "$(ctrl_of "$n0")"
check reset-live wait_for 30 grep -q live "/sys/class/nvme/$(ctrl_of "$n0")/state"
sleep 3
check share-across-reset share_at_least reset md0 "$c4" 99
swap_end replug md0 md0 "$n1" rm
premap_mode md0 on
check old-member-out md_drop md0 "/dev/$n0"
check rebuilt-data ref_verify /dev/md0
check stop mdadm --stop /dev/md0
check "$n0-no-leak" no_leak "$n0"
check "$n1-no-leak" no_leak "$n1"
