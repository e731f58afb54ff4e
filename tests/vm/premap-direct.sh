# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# iommu: pt
# cases: 105
# One mapping per buffer without an IOMMU (iommu=pt: dma-direct). A buffer
# of ordinary pages is one segment per page, its IOs on PRP lists; a buffer
# in one 2 MiB huge page is a single segment, its IOs one SGL descriptor;
# a buffer over several huge pages one segment per run. Data verify for
# each, with and without SGLs, and per-IO counts: premapped 0/0/0, plain
# 1/1/0 (dma-direct maps, but nothing to flush).
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0)
SGL=/sys/module/nvme/parameters/sgl_threshold
sgl0=$(cat "$SGL")
check iommu-pt test "$(cmdline_arg iommu)" = pt
check hugepages sh -c 'echo 16 >/proc/sys/vm/nr_hugepages && test "$(cat /proc/sys/vm/nr_hugepages)" -ge 12'

# maps MIN MAX DEV ARGS: a map of one buffer costs MIN..MAX dma_map calls
maps() {
	local min=$1 max=$2 dev=$3 h n
	shift 3
	profile_on || return 1
	h=$(profile_hits $DMA_MAP_FUNCS)
	dmatag-io mapcost "$dev" "$@" >/tmp/maps.log 2>&1 || { cat /tmp/maps.log; return 1; }
	n=$(($(profile_hits $DMA_MAP_FUNCS) - h))
	say "mapcost $*: $n dma_map calls"
	[ "$n" -ge "$min" ] && [ "$n" -le "$max" ]
}

# one huge page: one segment, no list with SGLs; 512 pages of 4 KiB: one
# segment each, the lists (two sets of two list pages) too
check huge-2m-maps-1 maps 1 1 "/dev/$n0" --huge --buf-size 2097152
check small-2m-maps-5 maps 5 5 "/dev/$n0" --buf-size 2097152
check no-leak-maps no_leak "$n0"

tool_cases verify "dmatag-io" verify "/dev/$n0"
tool_cases verify-huge-one-segment dmatag-io verify "/dev/$n0" --huge --buf-size 2093056
tool_cases verify-huge-runs dmatag-io verify "/dev/$n0" --huge
echo 0 >"$SGL"
tool_cases verify-prp-huge-one-segment dmatag-io verify "/dev/$n0" --huge --buf-size 2093056
tool_cases verify-prp-huge-runs dmatag-io verify "/dev/$n0" --huge
echo "$sgl0" >"$SGL"

check premapped-run load_count premapped "/dev/$n0"
check premapped-map-0 exactly_zero "$LC_MAP_N"
check premapped-unmap-0 exactly_zero "$LC_UNMAP_N"
check premapped-flush-0 exactly_zero "$LC_FLUSH_N"
check plain-run load_count plain "/dev/$n0" --plain
check plain-map-1 near "$LC_MAP" 1
check plain-unmap-1 near "$LC_UNMAP" 1
check plain-flush-0 exactly_zero "$LC_FLUSH_N"

premap_mode "$n0" auto
check fio-auto-verify fio_verify auto "/dev/$n0" --bsrange=512-128k
premap_mode "$n0" on
check no-leak no_leak "$n0"

