# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# cases: 90
# Premapped IO on a raw NVMe namespace: data verify of premapped against
# plain IO for sizes 512 B .. 1 MiB at many buffer offsets (misaligned
# starts, IOs that cross PRP list pages, a buffer that starts inside a
# page), every bad input of the uapi with its errno, unmapping and
# unregistering with IO in flight, and stock fio in auto mode.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0)

check premap-sysfs-default grep -qx 'off \[on\] auto' "/sys/block/$n0/queue/dma_premap"
check premap-counters-present test -r "/sys/block/$n0/dma_tag/premapped_ios"

tool_cases verify-premapped dmatag-io verify "/dev/$n0"
tool_cases verify-plain dmatag-io verify "/dev/$n0" --plain
# buffers whose PRP lists are sized to them: 16 pages (a 128-byte list),
# 511 pages (one full list page, no chain slot, one set) and 512 pages
# (two list pages, the shifted second set)
tool_cases verify-16-pages dmatag-io verify "/dev/$n0" --buf-size 65536
tool_cases verify-511-pages dmatag-io verify "/dev/$n0" --buf-size 2093056
tool_cases verify-512-pages dmatag-io verify "/dev/$n0" --buf-size 2097152

# errnos; the device without support is a loop device, the regular file
# lives on the rootfs
dd if=/dev/zero of=/tmp/loop.img bs=1M count=0 seek=16 2>/dev/null
loop=$(losetup -f)
losetup "$loop" /tmp/loop.img
tool_cases errnos dmatag-io errnos "/dev/$n0" --unsupported "$loop" \
	--regular /tmp/regular-file
losetup -d "$loop"

tool_cases inflight dmatag-io inflight "/dev/$n0"

# stock fio, auto mode: counters show the premapped IOs
premap_mode "$n0" auto
pm0=$(dma_tag "$n0" premapped_ios) fb0=$(dma_tag "$n0" fallback_ios)
check fio-auto-verify fio_verify auto "/dev/$n0" --bsrange=512-64k
pm1=$(dma_tag "$n0" premapped_ios) fb1=$(dma_tag "$n0" fallback_ios)
say "auto mode: premapped_ios +$((pm1 - pm0)) fallback_ios +$((fb1 - fb0))"
check fio-auto-premapped test $((pm1 - pm0)) -ge 1000
check fio-auto-no-fallback test "$fb1" -eq "$fb0"
check fio-auto-no-leak no_leak "$n0"
premap_mode "$n0" on

# the default mode "on" leaves unmodified applications alone
pm0=$(dma_tag "$n0" premapped_ios)
check fio-on-verify fio_verify on "/dev/$n0" --size=8M
check fio-on-plain test "$(dma_tag "$n0" premapped_ios)" -eq "$pm0"
