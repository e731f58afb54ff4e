# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# alone: yes
# cases: 68
# disks: 2
# What premapping may cost, and who pays: the per-ring bounds (sysctl
# kernel.io_uring_premap_max_buffers and _max_bytes, -EDQUOT, another ring
# unaffected), the register opcodes a newer liburing uses (-EINVAL, nothing
# unmapped), an explicit unmap that keeps auto mode off a buffer, a process
# whose memory cgroup reaches its limit (-ENOMEM, no OOM kill, another
# process on the same device maps meanwhile), and the kernel memory a
# mapping takes per MiB premapped (1,024 x 16 KiB and 4 x 64 MiB buffers,
# MemFree drop of the map, raw NVMe and dm striped x2), against the goals
# of 0.05 and 0.01 MiB per MiB (checked on the production kernel).
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0)
n1=$(nvme_ns_of nv1)

check sysctl-max-buffers test "$(cat /proc/sys/kernel/io_uring_premap_max_buffers)" -eq 32768
check sysctl-max-bytes test "$(cat /proc/sys/kernel/io_uring_premap_max_bytes)" -eq 2147483648
tool_cases bounds dmatag-io bounds "/dev/$n0"

# --- a memory cgroup at its limit -------------------------------------------
cg=/sys/fs/cgroup
cg_setup() {
	grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none "$cg" || return 1
	echo "+memory" >"$cg/cgroup.subtree_control" && mkdir -p "$cg/premap"
}
check cgroup-v2 cg_setup
rm -f /tmp/memcg.go
sh -c "echo \$\$ >$cg/premap/cgroup.procs; exec dmatag-io memcg /dev/$n0 --bufs 4096 --margin 1024 --go /tmp/memcg.go" \
	>/tmp/memcg.log 2>&1 &
mc=$!
at_limit() { grep -q '^at-limit' /tmp/memcg.log; }
check memcg-at-limit wait_for 120 at_limit
grep '^memcg mapped' /tmp/memcg.log | while read -r l; do say "$l"; done
# another process, another cgroup, the same device: maps as before
tool_cases memcg-other dmatag-io map "/dev/$n0"
touch /tmp/memcg.go
wait "$mc"
rc=$?
tool_cases memcg cat /tmp/memcg.log
check memcg-rc test "$rc" -eq 0
oom=$(sed -n 's/^oom_kill //p' "$cg/premap/memory.events")
check memcg-no-oom-kill test "${oom:-0}" -eq 0
check memcg-no-leak no_leak "$n0"

# --- kernel memory per MiB premapped -----------------------------------------
# the map alone (the buffers are registered before), in KiB per MiB
# premapped: the MemFree drop and the memory cgroup's charge; the goal is at
# most 51.2 (0.05 MiB per MiB) for 16 KiB buffers and 10.24 (0.01 MiB per
# MiB) for 64 MiB buffers
memcost() { # NAME DEV BUFS SIZE
	local name=$1 dev=$2 line
	tool_cases "memcost-$name" dmatag-io memcost "$dev" --bufs "$3" --buf-size "$4"
	line=$(grep '^memcost ' "/tmp/tool-memcost-$name.log")
	echo "$line" >"/tmp/tool-memcost-$name.line"
	say "memcost $name: $line (map ms; KiB per MiB: MemFree drop, memcg charge)"
	echo "$line" | awk '{ print $5 }' >"/tmp/memcost-$name"
	echo "$line" | awk '{ print $6 }' >"/tmp/memcost-$name-charged"
}
per_mib_below() { awk -v v="$(cat "/tmp/memcost-$1")" -v m="$2" 'BEGIN { exit !(v <= m) }'; }

memcost raw-16k "/dev/$n0" 1024 16384
memcost raw-64m "/dev/$n0" 4 67108864

# mapping N buffers costs O(N log N): each map inserts one range in the
# disk's lookup tree (it re-sorted an array of all the disk's tags before),
# io_uring finds the buffer's entries on the buffer and nvme-pci its shared
# mappings in a tree (both walked lists of all). Four times the buffers take
# at most eight times as long: 5.3-5.5x measured on the debug kernel (the
# IOMMU's IOVA allocator and dma-debug are not linear either), 10.1x with the
# sorted array
memcost raw-1024x4k "/dev/$n0" 1024 4096
memcost raw-4096x4k "/dev/$n0" 4096 4096
map_ms() { awk '{ print $4 }' "/tmp/tool-memcost-$1.line"; }
say "map time: 1024 x 4 KiB $(map_ms raw-1024x4k) ms, 4096 x 4 KiB $(map_ms raw-4096x4k) ms"
check map-4096-scales awk -v a="$(map_ms raw-1024x4k)" -v b="$(map_ms raw-4096x4k)" \
	'BEGIN { exit !(a > 0 && b <= 8 * a + 50) }'
# dma-debug (an entry per mapping), KASAN and kmemleak multiply the figure
# on the debug kernel: the goals hold for the production kernel only (make
# bench, and FLAVOUR=prod make check). The goal is checked on what the map
# charges to the memory cgroup: MemFree moves by as much with the per-CPU
# page lists. Goals: 0.05 MiB per MiB for 1,024 x 16 KiB, 0.01 for 64 MiB
# buffers (one dma_map_sgtable() per buffer: one IOVA range, no per-page
# IOVA node or SGL descriptor; the scatterlist is 8 KiB per MiB).
if [ ! -d /sys/kernel/debug/dma-api ]; then
	check memcost-raw-16k-goal per_mib_below raw-16k-charged 51.2
	check memcost-raw-64m-goal per_mib_below raw-64m-charged 10.24
else
	say "memcost: debug kernel (dma-debug), goals not checked here"
fi

check st-create dm_create st "0 $((2 * 262144)) striped 2 128 /dev/$n0 0 /dev/$n1 0"

memcost st-16k /dev/mapper/st 1024 16384
memcost st-64m /dev/mapper/st 4 67108864
check st-remove dm_remove st
check st-n0-no-leak no_leak "$n0"
check st-n1-no-leak no_leak "$n1"

