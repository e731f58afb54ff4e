# SPDX-License-Identifier: GPL-2.0
# The demo, guest side (see scripts/demo.sh). Exits non-zero when a step fails.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2)
n3=$(nvme_ns_of nv3) n4=$(nvme_ns_of nv4)
iommu=$(cmdline_arg iommu)
failed=0
TABLE=/tmp/demo-table

row() {
	printf '%-26s %-10s %8s %8s %8s %8s\n' "$@" | tee -a "$TABLE"
}

# fio4k LABEL DEV: 4 KiB random reads for 8 s under the function profiler,
# the fio command line most people write: fixed buffers, plain descriptors
# (no --registerfiles)
fio4k() {
	dma_count "$1" "--filename=$2" $FIO_FIXEDBUFS --rw=randread --bs=4k \
		--iodepth=16 --time_based --runtime=8 --randrepeat=0
}

# measure STACK DEV [DISK]: the plain path, then, when DISK (the device's
# sysfs name) premaps, the same stock fio with queue/dma_premap=auto
measure() {
	local pm0
	if fio4k plain "$2"; then
		row "$1" plain "$DC_IOPS" "$DC_MAP" "$DC_UNMAP" "$DC_FLUSH"
	else
		row "$1" plain "fio failed" - - -
		failed=1
	fi
	if [ -z "${3:-}" ]; then
		row "" premapped "n/a" - - -
		return
	fi
	premap_mode "$3" auto
	pm0=$(dma_tag "$3" premapped_ios)
	if fio4k premapped "$2"; then
		row "" premapped "$DC_IOPS" "$DC_MAP" "$DC_UNMAP" "$DC_FLUSH"
		say "$3: $(($(dma_tag "$3" premapped_ios) - pm0)) of $DC_IOS IOs premapped"
	else
		row "" premapped "fio failed" - - -
		failed=1
	fi
	premap_mode "$3" on
	# fio's ring unmaps its buffers after fio exited: not in the next count
	no_leak "$3" || true
}

say "== dmatag demo: IOMMU $iommu, disks $n0 $n1 $n2 $n3 $n4"
: >"$TABLE"
row stack path IOPS map/IO unmap/IO flush/IO
measure "raw $n0" "/dev/$n0" "$n0"

say "dmsetup create str: striped, 4 x NVMe, 64 KiB chunks"
dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")" || failed=1
DM_DISABLE_UDEV=1 dmsetup table str
measure "dm striped (4 NVMe)" /dev/mapper/str "$(dm_disk str)"
dm_remove str

say "mdadm --create md0: raid10, 4 x NVMe"
md_create md0 10 "/dev/$n0" "/dev/$n1" "/dev/$n2" "/dev/$n3" -- --size=256M || failed=1
cat /proc/mdstat
measure "md raid10 (4 NVMe)" /dev/md0 md0

say "mkfs.xfs /dev/md0, mount /mnt/fs, a 64 MiB file written"
if fs_make xfs /dev/md0 && fs_mount xfs /dev/md0 /mnt/fs &&
	fio --name=layout --filename=/mnt/fs/f --rw=write --bs=1M --size=64M \
		--direct=1 >/tmp/fio-layout.log 2>&1; then
	measure "XFS file on md raid10" /mnt/fs/f md0
else
	row "XFS file on md raid10" plain "set-up failed" - - -
	failed=1
fi
umount /mnt/fs || failed=1

say "== per-IO DMA work, 4 KiB random reads (function profiler counts / fio IOs)"
cat "$TABLE"

say "== md hot-swap under fio verify, premapped (auto): --fail $n1, --remove, --add $n4"
ref_write /dev/md0 || failed=1
premap_mode md0 auto
r0=$(dma_tag md0 remaps)
bg_verify_start demo /dev/md0
sleep 3
c=$(share md0)
mdadm /dev/md0 --fail "/dev/$n1" && md_show md0 "failed $n1"
wait_for 30 mdadm /dev/md0 --remove "/dev/$n1" && md_show md0 "removed $n1"
share_at_least "premapped share while healthy" md0 "$c" 0
say "$n1 after removal: mapped_bytes=$(dma_tag "$n1" mapped_bytes)"
grep -A2 '^md0' /proc/mdstat
c=$(share md0)
sleep 3
share_at_least "premapped share while degraded" md0 "$c" 0
c=$(share md0)
mdadm /dev/md0 --add "/dev/$n4" && md_show md0 "added $n4"
grep -A3 '^md0' /proc/mdstat
md_recover md0 || failed=1
share_at_least "premapped share while recovering" md0 "$c" 0
grep -A2 '^md0' /proc/mdstat
c=$(share md0)
sleep 3
share_at_least "premapped share after recovery" md0 "$c" 0
say "md0 remaps: +$(($(dma_tag md0 remaps) - r0)); $n4: maps=$(dma_tag "$n4" maps) mapped_bytes=$(dma_tag "$n4" mapped_bytes)"
bg_verify_stop demo || failed=1
ref_verify /dev/md0 || failed=1
premap_mode md0 on
mdadm --stop /dev/md0
if [ "$failed" -eq 0 ]; then say "== demo: OK"; else say "== demo: FAILED"; fi
exit "$failed"
