# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# cases: 6
# Stock behaviour: md raid1 and raid10 created with mdadm keep data
# (fio crc32c verify through io_uring with registered files and buffers).
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)

check md-raid1-create md_create md0 1 "/dev/$n0" "/dev/$n1"
check md-raid1-verify fio_verify r1 /dev/md0 --bsrange=4k-128k
check md-raid1-clean md_is md0 "[UU]"
mdadm --stop /dev/md0
mdadm --zero-superblock "/dev/$n0" "/dev/$n1"

check md-raid10-create md_create md1 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3"
check md-raid10-verify fio_verify r10 /dev/md1 --bsrange=4k-128k
check md-raid10-clean md_is md1 "[UUUU]"
mdadm --stop /dev/md1
