# SPDX-License-Identifier: GPL-2.0
# timeout: 1200
# alone: yes
# disks: 4
# cases: 22
# Tag lifetime under load, premapped (auto) next to dma_premap=off in the
# same boot:
# - md raid1 member removal with 1,024 live premapped buffers under fio:
#   time from mdadm --fail + --remove until the array is degraded and
#   writing (goal: within 2x of off), and the waits the removal took
#   (synchronize_rcu and wait_for_completion calls, function profiler):
#   O(1), not one per buffer;
# - dm table swap (a linear device grown onto a second NVMe and shrunk back)
#   with 1,024 live buffers under fio verify: suspend-to-resume time (goal:
#   within 2x of off), the member that joined mapped by a worker after the
#   resume;
#   then the same swap while a memory cgroup with a small memory.max writes
#   through the page cache to the device: it completes.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2)
n3=$(nvme_ns_of nv3)

# the waits a caller can make on the tags: counted by the profiler
WAIT_FUNCS="synchronize_rcu synchronize_rcu_expedited wait_for_completion"
waits_on() {
	[ -d "$T/trace_stat" ] || mount -t tracefs none "$T" || return 1
	echo 0 >"$T/function_profile_enabled"
	: >"$T/set_ftrace_filter"
	for f in $WAIT_FUNCS; do
		echo "$f" >>"$T/set_ftrace_filter" || return 1
	done
	echo 1 >"$T/function_profile_enabled"
}
waits() { profile_hits $WAIT_FUNCS; }

# bg_fio_qd NAME DEV SECONDS QD [ARGS]: bg_fio with QD buffers in flight
bg_fio_qd() {
	local name=$1 dev=$2 secs=$3 qd=$4
	shift 4
	bg_fio "$name" "$dev" "$secs" --iodepth="$qd" --verify_backlog=4096 "$@"
}

mapped_at_least() { test "$(dma_tag "$1" mapped_bytes)" -ge "$2"; }
md_writes() {
	fio --name=mw --filename=/dev/md0 --ioengine=psync --direct=1 --rw=write \
		--bs=4k --size=4k --offset=64M >/dev/null 2>&1
}

# md_removal MODE: md raid1 over n0 n1, fio with 1,024 buffers, then n1
# failed and removed; sets MR_CS (centiseconds until degraded and writing)
# and MR_WAITS (waits counted meanwhile)
md_removal() {
	local mode=$1 w0 t0
	MR_CS= MR_WAITS=
	md_create md0 1 "/dev/$n0" "/dev/$n1" -- --size=128M || return 1
	premap_mode md0 "$mode"
	waits_on || return 1
	bg_fio_qd "mr-$mode" /dev/md0 40 1024
	if [ "$mode" = auto ]; then
		wait_for 30 mapped_at_least md0 $((1024 * 4096)) ||
			{ say "md0: $(dma_tag md0 mapped_bytes) bytes mapped"; return 1; }
	else
		sleep 8
	fi
	say "md removal $mode: md0 mapped_bytes $(dma_tag md0 mapped_bytes), $n1 $(dma_tag "$n1" mapped_bytes)"
	w0=$(waits) t0=$(up_cs)
	md_drop md0 "/dev/$n1" && wait_for 30 md_is md0 "[U_]" && md_writes || return 1
	MR_CS=$(($(up_cs) - t0)) MR_WAITS=$(($(waits) - w0))
	say "md removal $mode: degraded and writing after $MR_CS cs, $MR_WAITS waits"
	bg_fio_ok "mr-$mode" || return 1
	mdadm --stop /dev/md0 && mdadm --zero-superblock "/dev/$n0" "/dev/$n1"
}

check md-removal-off md_removal off
off_cs=${MR_CS:-0} off_waits=${MR_WAITS:-0}
check md-removal-auto md_removal auto
say "md removal with 1024 buffers: auto $MR_CS cs / $MR_WAITS waits, off $off_cs cs / $off_waits waits"
check md-removal-within-2x test "${MR_CS:-99999}" -le $((2 * off_cs + 20))
check md-removal-waits-o1 test "${MR_WAITS:-99999}" -le $((off_waits + 16))
check md-removal-n1-released no_leak "$n1"
check md-removal-n0-released no_leak "$n0"

# --- dm table swap with 1,024 live buffers ---------------------------------
t_small="0 131072 linear /dev/$n2 0"
t_big="0 131072 linear /dev/$n2 0
131072 131072 linear /dev/$n3 0"

# dm_swap NAME TABLE: suspend, load TABLE, resume; sets SW_CS
dm_swap() {
	local t0
	t0=$(up_cs)
	dm suspend "$1" && printf '%s\n' "$2" | dm reload "$1" && dm resume "$1" || return 1
	SW_CS=$(($(up_cs) - t0))
}

# swap_run MODE: fio verify with 1,024 buffers on sw, grown onto n3 and
# shrunk back; sets SG_CS and SS_CS (the two swaps) and SW_JOIN (n3's maps
# after the grow)
swap_run() {
	local mode=$1 m0
	dm_create sw "$t_small" || return 1
	premap_mode "$(dm_disk sw)" "$mode"
	bg_fio_qd "sw-$mode" /dev/mapper/sw 30 1024 --size=32M
	if [ "$mode" = auto ]; then
		wait_for 30 mapped_at_least "$(dm_disk sw)" $((1024 * 4096)) || return 1
	else
		sleep 8
	fi
	m0=$(dma_tag "$n3" maps)
	dm_swap sw "$t_big" || return 1
	SG_CS=$SW_CS
	sleep 3
	SW_JOIN=$(($(dma_tag "$n3" maps) - m0))
	dm_swap sw "$t_small" || return 1
	SS_CS=$SW_CS
	say "dm swap $mode: grow $SG_CS cs, shrink $SS_CS cs, $n3 maps +$SW_JOIN"
	bg_fio_ok "sw-$mode" || return 1
	dm_remove sw
}

check swap-off swap_run off
off_g=${SG_CS:-0} off_s=${SS_CS:-0}
check swap-auto swap_run auto
say "dm swap with 1024 buffers: auto grow $SG_CS cs shrink $SS_CS cs, off grow $off_g cs shrink $off_s cs"
check swap-grow-within-2x test "${SG_CS:-99999}" -le $((2 * off_g + 20))
check swap-shrink-within-2x test "${SS_CS:-99999}" -le $((2 * off_s + 20))
# mapped after the resume, not inside the suspend: 1,024 buffers
check swap-joiner-mapped test "${SW_JOIN:-0}" -ge 1024
check swap-n3-released no_leak "$n3"
check swap-n2-released no_leak "$n2"

# --- the same swap under memory pressure ------------------------------------
cg=/sys/fs/cgroup
cg_setup() {
	grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none "$cg" || return 1
	echo "+memory +io" >"$cg/cgroup.subtree_control"
}
check cgroup-v2 cg_setup
mkdir -p "$cg/mp"
check memory-max sh -c "echo 24M >$cg/mp/memory.max"
check mp-create dm_create mp "$t_small"
premap_mode "$(dm_disk mp)" auto
bg_fio_qd mp /dev/mapper/mp 40 256 --size=16M
check mp-mapped wait_for 30 mapped_at_least "$(dm_disk mp)" $((256 * 4096))
# page-cache writes past memory.max: reclaim writes back to the device
sh -c "echo \$\$ >$cg/mp/cgroup.procs; exec dd if=/dev/zero of=/dev/mapper/mp bs=1M count=48 seek=16" >/tmp/mp-dd.log 2>&1 &
dd_pid=$!
sleep 3
check mp-swap-grow timeout 120 sh -c ". /tests/guest/lib.sh; printf '%s\n' '$t_big' | dm reload mp && dm suspend mp && dm resume mp"
check mp-swap-shrink timeout 120 sh -c ". /tests/guest/lib.sh; printf '%s\n' '$t_small' | dm reload mp && dm suspend mp && dm resume mp"
check mp-dd wait "$dd_pid"
say "memory pressure: $(grep -E '^(max|oom)' "$cg/mp/memory.events" | tr '\n' ' ')"
check mp-fio bg_fio_ok mp
check mp-remove dm_remove mp
