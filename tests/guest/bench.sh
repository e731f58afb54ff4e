# SPDX-License-Identifier: GPL-2.0
# The benchmark, guest side (see scripts/bench.sh): for each stack and
# workload, stock fio plain and premapped (queue/dma_premap=auto on the top
# device) in alternating A/B runs, $reps times each, with the function
# profiler counting dma_map_*, dma_unmap_* and qi_flush_iotlb and /proc/stat
# giving the guest CPU time. One line per run:
#   BENCH iommu stack workload path rep ios iops cpu_us_per_io map unmap flush
# then the cost of mapping a buffer (dmatag-io mapcost):
#   MAPCOST iommu stack members bytes map_us unmap_us mem_kib maps unmaps flushes
# and the kernel memory of many small and a few large buffers (memcost):
#   MEMCOST iommu stack members nr_bufs buf_bytes map_ms free_kib_per_mib charged_kib_per_mib
# With dmatag.bench_path=ours or =stock (stock 6.1.192: plain only), only
# the path length of a 4 KiB random read, every traced kernel call per IO
# (path_count; the host boots one vCPU for it, see tests/vm/path-length.sh):
#   PATH iommu kernel stack path calls_per_io
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
iommu=$(cmdline_arg iommu)
reps=$(cmdline_arg bench_reps)
runtime=$(cmdline_arg bench_runtime)
reps=${reps:-3} runtime=${runtime:-3}
failed=0
all="/dev/$n0 /dev/$n1 /dev/$n2 /dev/$n3"
W_randread="--rw=randread --bs=4k"
W_randwrite="--rw=randwrite --bs=4k"
W_seqread="--rw=read --bs=128k"

# busy jiffies of all CPUs (user nice system irq softirq steal)
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# run STACK DEV DISK WORKLOAD PATH REP: one fio run, one BENCH line; fio
# with registered files, or with $ENGINE (fd: plain descriptors, the
# common --fixedbufs=1 command line)
run() {
	local b0 b1 cpu args engine=$FIO_URING
	eval "args=\$W_$4"
	[ "${ENGINE:-}" = fd ] && engine=$FIO_FIXEDBUFS
	if [ "$5" = premapped ]; then premap_mode "$3" auto; else premap_mode "$3" on; fi
	b0=$(busy)
	# shellcheck disable=SC2086
	dma_count "bench-$1-$4-$5" --filename="$2" $engine --iodepth=32 \
		--time_based --runtime="$runtime" --randrepeat=0 --size=256M $args >/dev/null ||
		failed=1
	b1=$(busy)
	premap_mode "$3" on
	cpu=$(awk -v b=$((b1 - b0)) -v n="$DC_IOS" \
		'BEGIN { if (n > 0) printf "%.1f", b * 1e6 / 100 / n; else print "nan" }')
	echo "BENCH $iommu $1 $4 $5 $6 $DC_IOS $DC_IOPS $cpu $DC_MAP $DC_UNMAP $DC_FLUSH"
	# the ring lets go of its buffers after fio has gone
	no_leak "$3" || true
}

# measure STACK DEV DISK [WORKLOADS]: every workload (or those named),
# plain and premapped alternating
measure() {
	local wl rep
	for wl in ${4:-randread randwrite seqread}; do
		rep=1
		while [ "$rep" -le "$reps" ]; do
			run "$1" "$2" "$3" "$wl" plain "$rep"
			run "$1" "$2" "$3" "$wl" premapped "$rep"
			rep=$((rep + 1))
		done
	done
}

# pathlen STACK DEV: PATH lines, plain and (but on stock) premapped
pathlen() {
	path_count "$1-plain" "$2" --plain || failed=1
	echo "PATH $iommu $kernel $1 plain $PC_CALLS"
	[ "$kernel" = stock ] && return
	path_count "$1-premapped" "$2" || failed=1
	echo "PATH $iommu $kernel $1 premapped $PC_CALLS"
}

# mapcost STACK DEV DISK MEMBERS: map and unmap one 64 MiB buffer, time and
# memory, and the map, unmap and flush calls of both (the unmap waited for)
mapcost() {
	local out h
	profile_on || failed=1
	h=$(dma_hits)
	out=$(dmatag-io mapcost "$2" --buf-size $((64 << 20)) 2>&1 | sed -n 's/^mapcost //p')
	[ -n "$out" ] || { say "mapcost $1 failed"; failed=1; return; }
	no_leak "$3" || failed=1
	wait_for 10 unmaps_caught_up "$h" || failed=1
	set -- "$1" "$2" "$3" "$4" $h $(dma_hits)
	echo "MAPCOST $iommu $1 $4 $out $(($8 - $5)) $(($9 - $6)) $((${10} - $7))"
}

# memcost STACK DEV MEMBERS NR SIZE: map NR buffers of SIZE at once; the
# MemFree drop of the map per MiB premapped
memcost() {
	local out
	out=$(dmatag-io memcost "$2" --bufs "$4" --buf-size "$5" 2>&1 | sed -n 's/^memcost //p')
	[ -n "$out" ] || { say "memcost $1 failed"; failed=1; return; }
	echo "MEMCOST $iommu $1 $3 $out"
}

# fs_bench STACK FS DEV DISK: the workloads on a 256 MiB file of a fresh FS
# on DEV (written first, outside the counts), premapped through DISK's knob
fs_bench() {
	if fs_make "$2" "$3" && fs_mount "$2" "$3" /mnt/fs &&
		fio --name=layout --filename=/mnt/fs/f --rw=write --bs=1M --size=256M \
			--direct=1 >/tmp/fio-layout.log 2>&1; then
		measure "$1" /mnt/fs/f "$4"
	else
		say "fs_bench $1: set-up failed"
		failed=1
	fi
	umount /mnt/fs 2>/dev/null
}

md_clean() { wait_for 10 grep -qx clean "/sys/block/$1/md/array_state"; }

md_gone() { # md_gone MD DEVS...
	local md=$1
	shift
	mdadm --stop "/dev/$md" >/dev/null && mdadm --zero-superblock "$@"
}

# memcost charges the map to a cgroup of its own
grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control || failed=1

kernel=$(cmdline_arg bench_path)
if [ -n "$kernel" ]; then
	say "== dmatag bench: $kernel kernel, IOMMU $iommu, path lengths"
	pathlen raw "/dev/$n0"
	dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")" || failed=1
	pathlen dm-striped4 /dev/mapper/str
	dm_remove str
	if [ "$failed" -eq 0 ]; then say "== bench: OK"; else say "== bench: FAILED"; fi
	exit "$failed"
fi

say "== dmatag bench: IOMMU $iommu, $reps x $runtime s per path, disks $n0 $n1 $n2 $n3"

measure raw "/dev/$n0" "$n0"
# stock fio without --registerfiles: premapped through plain descriptors
ENGINE=fd measure raw-plainfd "/dev/$n0" "$n0" randread
mapcost raw "/dev/$n0" "$n0" 1
memcost raw "/dev/$n0" 1 1024 16384
memcost raw "/dev/$n0" 1 4 $((64 << 20))
# many small buffers: the map time of 4,096 (the lookup index, O(N log N))
memcost raw "/dev/$n0" 1 4096 4096
fs_bench ext4-file-on-raw ext4 "/dev/$n0" "$n0"

dm_create lin "0 $(sectors "$n0") linear /dev/$n0 0" || failed=1
measure dm-linear /dev/mapper/lin "$(dm_disk lin)"
dm_remove lin

dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")" || failed=1
measure dm-striped4 /dev/mapper/str "$(dm_disk str)"
ENGINE=fd measure dm-striped4-plainfd /dev/mapper/str "$(dm_disk str)" randread
mapcost dm-striped4 /dev/mapper/str "$(dm_disk str)" 4
memcost dm-striped4 /dev/mapper/str 4 1024 16384
memcost dm-striped4 /dev/mapper/str 4 4 $((64 << 20))
dm_remove str

dm_create r1 "0 $(sectors "$n0") raid raid1 3 0 region_size 8192 2 - /dev/$n0 - /dev/$n1" ||
	failed=1
measure dm-raid1 /dev/mapper/r1 "$(dm_disk r1)"
dm_remove r1

md_create md0 0 $all -- --chunk=64 >/dev/null || failed=1
measure md-raid0x4 /dev/md0 md0
md_gone md0 $all

md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=512M >/dev/null || failed=1
measure md-raid1x2 /dev/md0 md0
mapcost md-raid1x2 /dev/md0 md0 2
md_gone md0 "/dev/$n0" "/dev/$n1"

md_create md0 10 $all -- --size=512M >/dev/null || failed=1
measure md-raid10x4 /dev/md0 md0
dm_create top "0 $(sectors md0) linear /dev/md0 0" || failed=1
measure dm-linear-over-md-raid10 /dev/mapper/top "$(dm_disk top)"
mapcost dm-linear-over-md-raid10 /dev/mapper/top "$(dm_disk top)" 4
dm_remove top
fs_bench xfs-file-on-md-raid10 xfs /dev/md0 md0
md_gone md0 $all

if [ "$failed" -eq 0 ]; then say "== bench: OK"; else say "== bench: FAILED"; fi
exit "$failed"
