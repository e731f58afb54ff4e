# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# cases: 15
# The per-IO DMA work of premapped IO against plain IO in one boot, counted
# with the ftrace function profiler: 4 KiB random reads through READ_FIXED
# on raw NVMe. Premapped (IORING_REGISTER_MAP_BUFFERS, profiler switched on
# only after the map call): exactly 0 dma_map, 0 dma_unmap, 0 IOTLB flushes.
# Plain: 1 map and 1 unmap per IO, and 1 flush in strict mode. Then stock fio
# in auto mode, where the buffers' own mapping (once per buffer page, at the
# first IO; the unmaps when the ring goes) is all there is.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0)
iommu=$(cmdline_arg iommu)

pm0=$(dma_tag "$n0" premapped_ios)
check raw-premapped-run load_count raw-premapped "/dev/$n0"
check raw-premapped-map-0 exactly_zero "$LC_MAP_N"
check raw-premapped-unmap-0 exactly_zero "$LC_UNMAP_N"
check raw-premapped-flush-0 exactly_zero "$LC_FLUSH_N"
check raw-premapped-counter test $(($(dma_tag "$n0" premapped_ios) - pm0)) -eq "$LC_IOS"

check raw-plain-run load_count raw-plain "/dev/$n0" --plain
check raw-plain-map-1 near "$LC_MAP" 1
check raw-plain-unmap-1 near "$LC_UNMAP" 1
case "$iommu" in
strict) check raw-plain-flush-1 near "$LC_FLUSH" 1 ;;
pt | off) check raw-plain-flush-0 exactly_zero "$LC_FLUSH_N" ;;
esac

# stock fio, auto mode: 8 buffers of one page are mapped at their first IO
# and unmapped at exit, inside the profiled run: 8 of each in 4096 IOs
premap_mode "$n0" auto
pm0=$(dma_tag "$n0" premapped_ios)
fio_count() {
	dma_count "$1" --filename="/dev/$n0" $FIO_URING --rw=randread --bs=4k \
		--iodepth=8 --size=64M --io_size=16M --randrepeat=0
}
check fio-auto-run fio_count fio-auto
check fio-auto-map-buffers-only test "$(profile_hits $DMA_MAP_FUNCS)" -eq 8
# (the unmaps run when the ring is torn down, which may end after fio)
check fio-auto-unmap-buffers-only test "$(profile_hits $DMA_UNMAP_FUNCS)" -le 8
check fio-auto-counter test $(($(dma_tag "$n0" premapped_ios) - pm0)) -eq "$DC_IOS"
premap_mode "$n0" on
check fio-plain-run fio_count fio-plain
check fio-plain-map-1 near "$DC_MAP" 1
