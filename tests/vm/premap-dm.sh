# SPDX-License-Identifier: GPL-2.0
# timeout: 1200
# cases: 191
# Premapped IO through device-mapper (composite DMA tags): linear, striped
# over 4 NVMe, raid1 and raid10 through the raid target, mirror, and linear
# over striped; raid10 runs over dm linear legs. Each: dmatag-io verify with an explicit map (premapped
# against plain data, 512 B .. 1 MiB), per-IO counts 0/0/0 for random
# reads (strict IOMMU: plain is 1/1/1), stock fio verify in auto mode.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
sz=$(sectors "$n0")

stack() { # stack LABEL NAME [dmatag-io verify ARGS]
	local label=$1 name=$2
	shift 2
	premap_stack "$label" "/dev/mapper/$name" "$(dm_disk "$name")" "$@"
}

check linear-create dm_create lin "0 $sz linear /dev/$n0 0"
stack linear lin
dm_remove lin

check striped-create dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")"
stack striped str
# nested: linear over the striped set
check nested-create dm_create top "0 $(($(sectors "$(dm_disk str)") / 2)) linear /dev/mapper/str 0"
inner0=$(share "$(dm_disk str)") top0=$(share "$(dm_disk top)")
stack linear-over-striped top
# the inner device's own counters saw the nested IO: every tagged bio that
# top sent to str went on premapped to str's members (str splits, so at
# least as many), none plain; the direct run above does not count here
check nested-inner-premapped nested_premapped "$(dm_disk str)" "$inner0" "$(dm_disk top)" "$top0"
dm_remove top
dm_remove str

check raid1-create dm_create r1 "0 $sz raid raid1 3 0 region_size 8192 2 - /dev/$n0 - /dev/$n1"
stack raid1 r1
dm_remove r1

# raid10 through the raid target needs metadata devices (without them a new
# set has no layout on 6.1): per NVMe, 8 MiB of metadata and the rest as
# data, both dm linear, so that this is a nested stack as well
meta=16384 legs=
for i in 0 1 2 3; do
	d=$(nvme_ns_of nv$i)
	dm_create "m$i" "0 $meta linear /dev/$d 0"
	dm_create "d$i" "0 $((sz - meta)) linear /dev/$d $meta"
	legs="$legs /dev/mapper/m$i /dev/mapper/d$i"
done
# The metadata devices carry a write-intent bitmap: its daemon clears the
# bits of the verify's writes up to two periods after them (5 s by
# default), 4 metadata writes that a count run could see. One period of
# 250 jiffies (1 s at HZ=250; dm-raid takes jiffies, the bitmap's
# superblock keeps seconds), and 4 s without a write before counting.
check raid10-create dm_create r10 "0 $(((sz - meta) * 2)) raid raid10 8 128 nosync raid10_copies 2 raid10_format near daemon_sleep 250 4$legs"
QUIET=4 stack raid10 r10
dm_remove r10
for i in 0 1 2 3; do dm_remove "m$i"; dm_remove "d$i"; done

# mirror: reads go to one leg with the original pages; writes go through
# dm-io's own bios to both legs and are plain
check mirror-create dm_create mir "0 $sz mirror core 2 1024 nosync 2 /dev/$n0 0 /dev/$n1 0"
stack mirror mir --writes-plain
dm_remove mir

# nothing left mapped on the NVMe disks after dmsetup remove
for d in "$n0" "$n1" "$n2" "$n3"; do
	check "$d-no-leak" no_leak "$d"
done

# two namespaces of one controller in one stack share the DMA mapping: a
# map of two buffers (16 and 17 pages) costs 2 dma_map calls under an IOMMU
# (one dma_map_sgtable() per buffer: one segment, SGLs, no list), 4 without
# (a segment per page, and per buffer its PRP list), not twice that
case $(cmdline_arg iommu) in
strict | lazy) share_maps=2 ;;
*) share_maps=4 ;;
esac
ns2=${n0%n1}n2
two() {
	printf '0 65536 linear /dev/%s 0\n65536 65536 linear /dev/%s 0\n' "$n0" "$ns2" |
		dm create two && DM_DISABLE_UDEV=1 dmsetup mknodes two
}
check share-create two
m0=$(dma_tag "$n0" maps) m2=$(dma_tag "$ns2" maps)
check share-profiler profile_on
h0=$(profile_hits $DMA_MAP_FUNCS)
tool_cases share dmatag-io map /dev/mapper/two
h1=$(profile_hits $DMA_MAP_FUNCS)
say "share: $((h1 - h0)) dma_map calls for 2 namespaces"
check share-both-namespaces-mapped test $(($(dma_tag "$n0" maps) - m0)) -eq 2 -a $(($(dma_tag "$ns2" maps) - m2)) -eq 2
check share-one-mapping test $((h1 - h0)) -eq "$share_maps"
dm_remove two
check share-no-leak no_leak "$ns2"
