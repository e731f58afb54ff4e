# SPDX-License-Identifier: GPL-2.0
# timeout: 600
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
IOS=4096

# load_count LABEL ARGS...: dmatag-io load under the profiler; sets LC_*
load_count() {
	local label=$1
	shift
	LC_MAP=nan LC_UNMAP=nan LC_FLUSH=nan LC_IOPS=0
	profile_setup || return 1
	dmatag-io load "/dev/$n0" --ios "$IOS" --qd 8 --bs 4096 \
		--profile "$T/function_profile_enabled" "$@" >"/tmp/lc-$label.log" 2>&1 ||
		{ cat "/tmp/lc-$label.log"; return 1; }
	LC_IOPS=$(sed -n 's/^load .* iops=\([0-9]*\).*/\1/p' "/tmp/lc-$label.log")
	LC_MAP=$(per_io "$(profile_hits $DMA_MAP_FUNCS)" "$IOS")
	LC_UNMAP=$(per_io "$(profile_hits $DMA_UNMAP_FUNCS)" "$IOS")
	LC_FLUSH=$(per_io "$(profile_hits $DMA_FLUSH_FUNCS)" "$IOS")
	say "count $label ($iommu): ios=$IOS iops=$LC_IOPS map/io=$LC_MAP unmap/io=$LC_UNMAP flush/io=$LC_FLUSH"
	ctl "@@RESULT $label $iommu $LC_IOPS $LC_MAP $LC_UNMAP $LC_FLUSH"
}

pm0=$(dma_tag "$n0" premapped_ios)
check raw-premapped-run load_count raw-premapped
check raw-premapped-map-0 near "$LC_MAP" 0
check raw-premapped-unmap-0 near "$LC_UNMAP" 0
check raw-premapped-flush-0 near "$LC_FLUSH" 0
check raw-premapped-counter test $(($(dma_tag "$n0" premapped_ios) - pm0)) -eq "$IOS"

check raw-plain-run load_count raw-plain --plain
check raw-plain-map-1 near "$LC_MAP" 1
check raw-plain-unmap-1 near "$LC_UNMAP" 1
case "$iommu" in
strict) check raw-plain-flush-1 near "$LC_FLUSH" 1 ;;
pt | off) check raw-plain-flush-0 near "$LC_FLUSH" 0 ;;
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
ctl "@@RESULT fio-auto $iommu $DC_IOPS $DC_MAP $DC_UNMAP $DC_FLUSH"
check fio-auto-map-buffers-only test "$(profile_hits $DMA_MAP_FUNCS)" -eq 8
# (the unmaps run when the ring is torn down, which may end after fio)
check fio-auto-unmap-buffers-only test "$(profile_hits $DMA_UNMAP_FUNCS)" -le 8
check fio-auto-counter test $(($(dma_tag "$n0" premapped_ios) - pm0)) -eq "$DC_IOS"
premap_mode "$n0" on
check fio-plain-run fio_count fio-plain
ctl "@@RESULT fio-plain $iommu $DC_IOPS $DC_MAP $DC_UNMAP $DC_FLUSH"
check fio-plain-map-1 near "$DC_MAP" 1
