# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# cases: 12
# Stock behaviour: surprise removal of an NVMe (QMP device_del) under md
# raid1 with running fio verify, then a fresh controller plugged on the same
# root port (device_add) and added back; the array goes degraded, rebuilds,
# and the rebuilt member alone returns what was written before.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1)

check hotplug-create md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M
check hotplug-ref-write ref_write /dev/md0
bg_verify_start plug /dev/md0
sleep 3
check hotplug-unplug host_unplug nv1
# md notices on the next IO that fails; fio keeps it busy
wait_for 30 md_is md0 "[U_]"
check hotplug-degraded md_is md0 "[U_]"
check hotplug-remove-detached md_drop md0 detached
check hotplug-plug host_plug nv1
new=$(nvme_ns_of nv1)
raid1_rebuild_checks hotplug md0 "/dev/$new" "/dev/$n0" plug
