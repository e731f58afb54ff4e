# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# Stock behaviour: an mdadm --fail / --remove / --add cycle on raid1 under
# running fio verify; recovery is waited for, then the rebuilt member alone
# must return what was written before the swap.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2)

check hotswap-create md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M
check hotswap-ref-write ref_write /dev/md0
bg_verify_start swap /dev/md0
sleep 3
check hotswap-fail-remove md_drop md0 "/dev/$n1"
check hotswap-degraded md_is md0 "[U_]"
check hotswap-add mdadm /dev/md0 --add "/dev/$n2"
check hotswap-rebuilt md_recover md0
check hotswap-clean md_is md0 "[UU]"
sleep 2
check hotswap-fio-verify bg_verify_stop swap
# only the new member is left to read from
check hotswap-old-member-out md_drop md0 "/dev/$n0"
check hotswap-rebuilt-data ref_verify /dev/md0
mdadm --stop /dev/md0
