# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# cases: 52
# Surprise removal (QMP device_del) of an NVMe whose namespace has buffers
# premapped by a running io_uring application: the mappings are revoked
# before the controller goes, IO ends (capacity 0) or fails with an errno,
# unmapping and unregistering afterwards succeed, new maps get -ENODEV, and
# the kernel log stays clean. A fresh controller on the same port premaps again.
. /tests/guest/lib.sh

n1=$(nvme_ns_of nv1)

dmatag-io hold "/dev/$n1" --seconds 120 >/tmp/hold.log 2>&1 &
pid=$!
check removal-holding wait_for 30 grep -q '^holding' /tmp/hold.log
check removal-mapped test "$(dma_tag "$n1" mapped_bytes)" -gt 0
check removal-unplug host_unplug nv1
wait "$pid"
rc=$?
say "dmatag-io hold exited with $rc"
tool_cases removal cat /tmp/hold.log
check removal-tool-rc test "$rc" -eq 0

check removal-plug host_plug nv1
new=$(nvme_ns_of nv1)
tool_cases replug dmatag-io errnos "/dev/$new"
