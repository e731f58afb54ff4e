# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# cases: 12
# The per-IO DMA work of the stock (plain) path, counted with the ftrace
# function profiler: each 4 KiB read costs exactly one dma_map and one
# dma_unmap on raw NVMe, dm striped and md raid1, plus one IOTLB flush in
# strict IOMMU mode and none in pt or off. Later work proves the premapped
# path does 0/0/0 with the same helper.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
iommu=$(cmdline_arg iommu)

# count LABEL DEV: 4 KiB random reads, then the verdicts for the mode
count() {
	dma_count "$1" --filename="$2" $FIO_URING --rw=randread --bs=4k \
		--iodepth=8 --size=64M --io_size=16M --randrepeat=0 ||
		{ case_fail "$1-count" "fio failed"; return; }
	check "$1-ios" test "$DC_IOS" -eq 4096
	# every mode maps and unmaps each IO (dma-direct and identity too)
	check "$1-map-1" near "$DC_MAP" 1
	check "$1-unmap-1" near "$DC_UNMAP" 1
	# the IOTLB: flushed per IO when strict, in batches when lazy, never
	# without translation
	case "$iommu" in
	strict) check "$1-flush-1" near "$DC_FLUSH" 1 ;;
	pt | off) check "$1-flush-0" exactly_zero "$DC_FLUSH_N" ;;
	esac
}

count raw /dev/$n0
dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")"
count dm-striped /dev/mapper/str
dm remove str
md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M
count md-raid1 /dev/md0
mdadm --stop /dev/md0
