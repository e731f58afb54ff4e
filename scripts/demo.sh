#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: boot the guest with 5 NVMe controllers, build NVMe RAID with
# dmsetup (striped) and mdadm (raid10), run fio on raw NVMe and on each stack
# and print IOPS and per-IO dma_map/dma_unmap/IOTLB-flush counts, then
# hot-swap an md member under fio verify and show it recover.
# The guest console is shown as it runs and kept in out/demo.console.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IOMMU=${IOMMU:-strict}
dir=$(mktemp -d /dev/shm/dmatag-demo.XXXXXX)
follow=
trap '[ -z "$follow" ] || kill "$follow" 2>/dev/null; rm -rf "$dir"' EXIT
: >"$dir/console.log"
tail -n +1 -F "$dir/console.log" 2>/dev/null &
follow=$!
vm_run "$dir" 1500 --run demo --disks 5 --iommu "$IOMMU"
sleep 1
kill "$follow" 2>/dev/null
follow=
mkdir -p "$DMATAG_OUT"
tr -d '\r' <"$dir/console.log" >"$DMATAG_OUT/demo.console.log"
[ "$VM_TIMED_OUT" = 0 ] || die "the demo timed out"
echo
echo "Per-IO DMA work and IOPS, one boot, IOMMU $IOMMU:"
sed -n '/== per-IO DMA work/,/== md hot-swap/p' "$DMATAG_OUT/demo.console.log" | sed '1d;$d'
echo "md hot-swap:"
grep -E '^\[[0-9.]+\] (failed|removed|added|recovering|rebuilt|premapped share|md0 remaps|[a-z0-9]+ after removal|background verify|reference region)' \
	"$DMATAG_OUT/demo.console.log"
rc=$(tr -d '\r' <"$dir/ctl.log" | sed -n 's/^@@END //p')
[ "${rc:-1}" = 0 ] || die "the demo failed (guest rc ${rc:-none}); see out/demo.console.log"
log "demo done; console in out/demo.console.log"
