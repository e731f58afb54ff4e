# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# alone: yes
# disks: 3
# cases: 11
# Removal of an NVMe throttled by cgroup v2 io.max (riops=2) while 64 reads
# of stock fio wait in blk-throttle: plain (dma_premap=off) on one
# controller, premapped (auto) on another, in one boot. The PCI device is
# removed through sysfs (nvme_remove() -> del_gendisk()); the removal must
# end within seconds, as with off, although the queue freeze does not wait
# for the throttled bios: del_gendisk() revokes the tags only after
# blk-throttle failed them (before, it waited for them at io.max's pace,
# about 30 s here). The hung-task detector is set to 10 s, and the kernel
# log checks fail the test on its report. The queued IO fails as with off.
. /tests/guest/lib.sh

proc_gone() { ! kill -0 "$1" 2>/dev/null; }
mapped() { test "$(dma_tag "$1" mapped_bytes)" -gt 0; }
disk_gone() { [ ! -e "/sys/block/$1" ]; }

cg=/sys/fs/cgroup
cg_setup() {
	grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none "$cg" || return 1
	echo "+io" >"$cg/cgroup.subtree_control" && mkdir -p "$cg/th"
}
check cgroup-v2 cg_setup
echo 10 >/proc/sys/kernel/hung_task_timeout_secs

# throttled_removal MODE NVDEV: reads at riops=2 in MODE, then the PCI
# device removed; sets TR_CS (centiseconds the removal took) and TR_ERR
# (fio's error lines)
throttled_removal() {
	local mode=$1 ns pci t0 pid
	TR_CS= TR_ERR=
	ns=$(nvme_ns_of "$2") || return 1
	pci=$(readlink -f "/sys/block/$ns/device/device")
	premap_mode "$ns" "$mode"
	# two 4 KiB reads a second (riops=2 trips a stock 6.1 blk-throttle WARN)
	echo "$(cat "/sys/block/$ns/dev") rbps=8192" >"$cg/th/io.max" || return 1
	sh -c "echo \$\$ >$cg/th/cgroup.procs; exec fio --name=th-$mode --filename=/dev/$ns $FIO_URING --iodepth=64 --rw=randread --bs=4k --size=32M --time_based --runtime=300" >"/tmp/fio-th-$mode.log" 2>&1 &
	pid=$!
	if [ "$mode" = auto ]; then
		wait_for 30 mapped "$ns" || return 1
	fi
	sleep 4
	say "throttled $mode: $ns mapped_bytes $(dma_tag "$ns" mapped_bytes), premapped_ios $(dma_tag "$ns" premapped_ios), $(grep -c . "/sys/block/$ns/inflight") inflight lines"
	t0=$(up_cs)
	echo 1 >"$pci/remove" || return 1
	TR_CS=$(($(up_cs) - t0))
	disk_gone "$ns" || return 1
	wait_for 30 proc_gone "$pid" || return 1
	wait "$pid"
	TR_ERR=$(grep -c 'error' "/tmp/fio-th-$mode.log")
	say "throttled $mode: removed in $TR_CS cs; fio: $(grep -E 'err=|error' "/tmp/fio-th-$mode.log" | head -n 2 | tr '\n' ' ')"
}

check throttled-off throttled_removal off nv1
off_tr=${TR_CS:-0} off_err=${TR_ERR:-0}
check throttled-off-io-failed test "$off_err" -gt 0
check throttled-auto throttled_removal auto nv2
say "throttled removal: auto $TR_CS cs (fio error lines $TR_ERR), off $off_tr cs (fio error lines $off_err)"
check throttled-auto-io-failed test "${TR_ERR:-0}" -gt 0
# within 3 s of off's removal
check throttled-within-seconds test "${TR_CS:-99999}" -le $((off_tr + 300))

# the controller that stays: premapped IO still works after the others went
n0=$(nvme_ns_of nv0)
premap_mode "$n0" auto
check survivor-fio fio_verify survivor "/dev/$n0" --size=8M
check survivor-premapped test "$(dma_tag "$n0" premapped_ios)" -gt 0
premap_mode "$n0" on
check survivor-no-leak no_leak "$n0"
check rescan sh -c 'echo 1 >/sys/bus/pci/rescan'
check rescan-back wait_for 30 nvme_ns_of nv2
