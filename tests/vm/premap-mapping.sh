# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# iommu: strict
# cases: 75
# One mapping per buffer (strict IOMMU): a buffer is one dma_map_sgtable()
# per DMA device, one contiguous IOVA range, and an IO on it one SGL data
# block descriptor of any size. Counted with the function profiler: the map
# and unmap calls and IOTLB flushes of mapping one buffer on raw NVMe and on
# dm striped x4, and of stock fio's first use of 32 buffers of 128 KiB (plain
# in the same boot for comparison); the PRP lists that a controller without
# SGLs needs (nvme.sgl_threshold=0: every chain-slot case of dmatag-io
# verify through them); SGLs switched off under a running fio (the IOs a
# list-less mapping cannot carry fall back, data verified). The path length:
# path-length.sh.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
SGL=/sys/module/nvme/parameters/sgl_threshold
sgl0=$(cat "$SGL")
check sgls-on test "$sgl0" -gt 0

# mapcost_count LABEL DEV DISK [ARGS]: map one buffer and unmap it with the
# profiler counting; MC_MAP, MC_UNMAP, MC_FLUSH calls in all (the unmap
# waited for: it runs after a grace period), MC_US map time
mapcost_count() {
	local label=$1 dev=$2 disk=$3 h
	shift 3
	check "$label-profiler" profile_on || return
	h=$(dma_hits)
	check "$label-run" sh -c "dmatag-io mapcost '$dev' $* >/tmp/mc-$label.log 2>&1"
	check "$label-unmapped" no_leak "$disk"
	check "$label-members-unmapped" wait_for 10 unmaps_caught_up "$h"
	set -- $h $(dma_hits)
	MC_MAP=$(($4 - $1)) MC_UNMAP=$(($5 - $2)) MC_FLUSH=$(($6 - $3))
	MC_US=$(awk '$1 == "mapcost" { print $3 }' "/tmp/mc-$label.log")
	say "$label: $(cat "/tmp/mc-$label.log" | grep '^mapcost'); map/unmap/flush calls $MC_MAP/$MC_UNMAP/$MC_FLUSH"
}

# 64 MiB (16384 pages): one map call, one unmap, a flush for each at most
mapcost_count raw-64m "/dev/$n0" "$n0" --buf-size 67108864
check raw-64m-map-1 test "$MC_MAP" -eq 1
check raw-64m-unmap-1 test "$MC_UNMAP" -eq 1
check raw-64m-flush-le-2 test "$MC_FLUSH" -le 2

check striped-create dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")"
mapcost_count striped-64m /dev/mapper/str "$(dm_disk str)" --buf-size 67108864
check striped-64m-map-4 test "$MC_MAP" -eq 4
check striped-64m-unmap-4 test "$MC_UNMAP" -eq 4
check striped-64m-flush-le-8 test "$MC_FLUSH" -le 8

# stock fio, auto mode: 32 buffers of 128 KiB at first use, then none; the
# same run plain for comparison (one map per member IO)
first_use() { # first_use LABEL MODE
	premap_mode "$(dm_disk str)" "$2"
	for d in "$n0" "$n1" "$n2" "$n3"; do premap_mode "$d" "$2"; done
	dma_count "$1" --filename=/dev/mapper/str $FIO_URING --rw=randread \
		--bs=128k --iodepth=32 --size=512M --io_size=256M --randrepeat=0
}
s0=$(share "$(dm_disk str)")
check first-use-premapped-run first_use first-use-premapped auto
check first-use-premapped-share share_at_least first-use "$(dm_disk str)" "$s0" 99
check first-use-map-le-128 test "$DC_MAP_N" -le 128
check first-use-flush-le-256 test "$DC_FLUSH_N" -le 256
check first-use-plain-run first_use first-use-plain off
check first-use-plain-map-per-io test "$DC_MAP_N" -ge "$DC_IOS"
premap_mode "$(dm_disk str)" on
for d in "$n0" "$n1" "$n2" "$n3"; do premap_mode "$d" on; done
dm_remove str
check striped-no-leak no_leak "$n0"

# no SGLs: PRP lists, and every boundary case through them
echo 0 >"$SGL"
# 512 pages: the sg map and two sets of two list pages
mapcost_count prp-2m "/dev/$n0" "$n0" --buf-size 2097152
check prp-2m-map-5 test "$MC_MAP" -eq 5
tool_cases verify-prp dmatag-io verify "/dev/$n0"
tool_cases verify-prp-512-pages dmatag-io verify "/dev/$n0" --buf-size 2097152
echo "$sgl0" >"$SGL"
# with SGLs the same buffer needs no list
mapcost_count sgl-2m "/dev/$n0" "$n0" --buf-size 2097152
check sgl-2m-map-1 test "$MC_MAP" -eq 1

# SGLs switched off under running IO: a mapping made for SGLs has no lists,
# its IOs of three pages or more fall back while they are off
premap_mode "$n0" auto
bg_fio sgl-flip "/dev/$n0" 12 --bsrange=4k-64k
io_started "$n0"
sleep 4
s0=$(share "$n0")
sleep 2
check flip-before window flip-before "$n0" "$s0"
echo 0 >"$SGL"
s0=$(share "$n0")
sleep 3
echo "$sgl0" >"$SGL"
set -- $s0 $(share "$n0")
say "flip-off: premapped +$(($3 - $1)) fallback +$(($4 - $2))"
check flip-off-falls-back test $(($4 - $2)) -gt 0
check flip-off-still-premaps test $(($3 - $1)) -gt 0
s0=$(share "$n0")
sleep 2
check flip-after window flip-after "$n0" "$s0"
check flip-fio-verified bg_fio_ok sgl-flip
premap_mode "$n0" on
check flip-no-leak no_leak "$n0"

