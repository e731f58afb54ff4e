# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# cases: 10
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
raid1_rebuild_checks hotswap md0 "/dev/$n2" "/dev/$n0" swap
