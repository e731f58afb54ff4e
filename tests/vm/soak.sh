# SPDX-License-Identifier: GPL-2.0
# timeout: 1500
# disks: 8
# cases: 20
# Soak: member changes of every kind, interleaved, under stock fio verify on
# premapped buffers (auto mode, two jobs per device) and dmatag-io churn
# (buffers unregistered and registered again, unmapped and mapped, slots
# replaced from another thread, every read verified; on dm linear over
# md1). Per round:
#   raid1 --fail/--remove/--add          md0 (raid1 over 2 NVMe)
#   raid10 --replace with the spare      md1 (raid10 over 4 NVMe, 1 spare)
#   dm table swap                        sk (dm linear) moved between md0
#                                        and md1, data copied while suspended
#   QMP unplug + replug + --add          a member of md0
#   raid1 --replace with the spare       md0 (1 spare)
# The report: cycles of each kind, IOs, premapped share, fio errors, verify
# mismatches, kernel complaints. Kernel command line: dmatag.soak_rounds=N
# (default 1: the short form in make check; make soak runs more).
. /tests/guest/lib.sh

rounds=$(cmdline_arg soak_rounds)
rounds=${rounds:-1}
n() { nvme_ns_of "nv$1"; }
# nv_of NS: the QEMU id (nvI) of namespace NS
nv_of() {
	local i
	for i in 0 1 2 3 4 5 6 7; do
		[ "$(n "$i" 2>/dev/null)" = "$1" ] && echo "nv$i" && return 0
	done
	return 1
}

echo 200000 >/proc/sys/dev/raid/speed_limit_min
# md0: raid1, spare r1s; md1: raid10, spare r10s
r1a=$(n 0) r1b=$(n 1) r1s=$(n 2)
r10=" $(n 3) $(n 4) $(n 5) $(n 6) " r10s=$(n 7)
check create-md0 md_create md0 1 "/dev/$r1a" "/dev/$r1b" -- --size=64M
# shellcheck disable=SC2086
check create-md1 md_create md1 10 $(for d in $r10; do echo "/dev/$d"; done) -- --size=64M
check create-sk dm_create sk "0 65536 linear /dev/md0 0"
# dmatag-io churn's device: md1's 32-48 MiB through dm linear, so that its
# counters are churn's alone (md1's also count fio's) while md1's members
# change underneath
check create-ch dm_create ch "0 32768 linear /dev/md1 65536"
sk=$(dm_disk sk) sk_on=md0
for d in md0 md1 "$sk"; do premap_mode "$d" auto; done

# --- background load -----------------------------------------------------
# soak_fio_start NAME DEV OFFSET_MIB SIZE_MIB: rounds of fio (2 jobs, each
# half of SIZE from OFFSET) random writes + verify until soak_fio_stop
soak_fio_start() {
	touch "/tmp/soak-$1.run"
	rm -f "/tmp/soak-$1.stat"
	(
		i=0 ios=0 errs=0 bad=0
		while [ -e "/tmp/soak-$1.run" ]; do
			i=$((i + 1))
			log=/tmp/soak-fio-$1.log
			fio --name="$1" --filename="$2" $FIO_URING --iodepth=8 --numjobs=2 \
				--offset="$3M" --size=$(($4 / 2))M --offset_increment=$(($4 / 2))M \
				--rw=randwrite --bs=4k --verify=crc32c --do_verify=1 \
				--verify_fatal=1 --verify_backlog=256 --group_reporting >"$log" 2>&1
			rc=$?
			n=$(sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\).*/\1 \2/p' "$log" |
				awk '{ s += $1 + $2 } END { print s + 0 }')
			ios=$((ios + n))
			m=$(grep -c -E 'verify failed|bad magic|bad header|crc32c: verify' "$log")
			bad=$((bad + m))
			if [ "$rc" -ne 0 ] || ! grep -q 'err= 0' "$log"; then
				errs=$((errs + 1))
				cp "$log" "/tmp/soak-fio-$1.failed-$i.log"
			fi
			echo "$i $ios $errs $bad" >"/tmp/soak-$1.stat"
		done
	) &
	eval "SOAK_PID_$1=\$!"
}

soak_fio_stop() { # soak_fio_stop NAME: wait for the round in flight
	rm -f "/tmp/soak-$1.run"
	eval "wait \$SOAK_PID_$1"
}

soak_fio_start md0 /dev/md0 32 16
soak_fio_start md1 /dev/md1 64 16
soak_fio_start sk /dev/mapper/sk 0 16

# --- the cycles ------------------------------------------------------------
c_r1=0 c_r10=0 c_swap=0 c_plug=0 c_r1rep=0 churn_log=/tmp/soak-churn.log
: >"$churn_log"

# raid1 --fail/--remove/--add of md0's second member
cycle_r1() {
	md_drop md0 "/dev/$r1b" && mdadm /dev/md0 --add "/dev/$r1b" &&
		md_recover md0 && md_is md0 "[UU]"
}

# raid10: the spare replaces the first member, which becomes the spare
cycle_r10() {
	local old
	old=$(echo $r10 | cut -d' ' -f1)
	mdadm /dev/md1 --add "/dev/$r10s" &&
		mdadm /dev/md1 --replace "/dev/$old" --with "/dev/$r10s" &&
		wait_for 300 md_replaced md1 "$old" &&
		md_drop md1 "/dev/$old" && mdadm --zero-superblock "/dev/$old" || return 1
	r10=" $(echo $r10 | cut -d' ' -f2-) $r10s " r10s=$old
}

# dm: move sk's 32 MiB to the other array, copied while suspended
cycle_swap() {
	local to=md1
	[ "$sk_on" = md0 ] || to=md0
	dm suspend sk &&
		dd if="/dev/$sk_on" of="/dev/$to" bs=1M count=32 conv=fsync 2>/dev/null &&
		dm load sk --table "0 65536 linear /dev/$to 0" &&
		dm resume sk || return 1
	sk_on=$to
}

# QMP: unplug md0's first member under IO, plug a fresh NVMe, add it
cycle_plug() {
	local id
	id=$(nv_of "$r1a") || return 1
	host_unplug "$id" && md_drop md0 detached && host_plug "$id" || return 1
	r1a=$(n "${id#nv}")
	mdadm /dev/md0 --add "/dev/$r1a" && md_recover md0 && md_is md0 "[UU]"
}

# raid1: the spare replaces the first member, which becomes the spare
cycle_r1rep() {
	local old=$r1a
	mdadm /dev/md0 --add "/dev/$r1s" &&
		mdadm /dev/md0 --replace "/dev/$old" --with "/dev/$r1s" &&
		wait_for 300 md_replaced md0 "$old" &&
		md_drop md0 "/dev/$old" && mdadm --zero-superblock "/dev/$old" || return 1
	r1a=$r1s r1s=$old
}

# cycle NAME CMD...: one case; true only when CMD succeeded
cycle() {
	local name=$1
	shift
	if "$@"; then
		case_ok "$name"
	else
		case_fail "$name" "failed: $*"
		return 1
	fi
}

t0=$(cut -d. -f1 /proc/uptime)
r=0
while [ "$r" -lt "$rounds" ]; do
	r=$((r + 1))
	# buffer churn from another thread, on md1's 32-48 MiB
	dmatag-io churn /dev/mapper/ch --seconds 20 >>"$churn_log" 2>&1 &
	churn=$!
	cycle "round$r-raid1-fail-remove-add" cycle_r1 && c_r1=$((c_r1 + 1))
	cycle "round$r-raid10-replace" cycle_r10 && c_r10=$((c_r10 + 1))
	cycle "round$r-dm-table-swap" cycle_swap && c_swap=$((c_swap + 1))
	cycle "round$r-unplug-replug" cycle_plug && c_plug=$((c_plug + 1))
	cycle "round$r-raid1-replace" cycle_r1rep && c_r1rep=$((c_r1rep + 1))
	check "round$r-churn" wait "$churn"
	say "soak round $r done at $(($(cut -d. -f1 /proc/uptime) - t0)) s"
done
for j in md0 md1 sk; do soak_fio_stop "$j"; done

# --- the report --------------------------------------------------------------
ios=0 errs=0 bad=0 fio_rounds=0
for j in md0 md1 sk; do
	set -- $(cat "/tmp/soak-$j.stat" 2>/dev/null || echo 0 0 0 0)
	say "soak fio $j: $1 rounds, $2 IOs, $3 failed rounds, $4 mismatches"
	fio_rounds=$((fio_rounds + $1)) ios=$((ios + $2)) errs=$((errs + $3)) bad=$((bad + $4))
	for f in /tmp/soak-fio-$j.failed-*.log; do
		[ -e "$f" ] && { say "$f:"; tail -n 20 "$f"; }
	done
done
# churn_sum KEY: KEY=N summed over the churn runs' summary lines
churn_sum() {
	sed -n "s/^churn: .*$1=\([0-9]*\).*/\1/p" "$churn_log" | awk '{ s += $1 } END { print s + 0 }'
}
churn_ios=$(churn_sum ios)
churn_reg=$(churn_sum register_cycles)
churn_unmap=$(churn_sum unmap_cycles)
churn_upd=$(churn_sum slot_updates)
churn_eagain=$(churn_sum eagain)
churn_maps=$(churn_sum maps)
churn_pm=$(churn_sum premapped)
churn_bad=$(grep -c '^not ok' "$churn_log")
grep -E '^(not ok|churn-error)' "$churn_log" | head -n 10
pm=0 fb=0
for d in md0 md1 "$sk"; do
	set -- $(share "$d")
	say "soak $d: premapped_ios $1 fallback_ios $2 remaps $(dma_tag "$d" remaps)"
	pm=$((pm + $1)) fb=$((fb + $2))
done
share_pct=$(awk -v p="$pm" -v f="$fb" 'BEGIN { printf "%.2f", p + f ? 100 * p / (p + f) : 0 }')
splats=$(dmesg | grep -c -E "$KERNEL_COMPLAINTS")
say "SOAK REPORT: rounds=$rounds raid1_fail_remove_add=$c_r1 raid10_replace=$c_r10 dm_table_swaps=$c_swap unplug_replug=$c_plug raid1_replace=$c_r1rep buffer_churn: register_cycles=$churn_reg unmap_cycles=$churn_unmap slot_updates=$churn_upd maps=$churn_maps ios=$churn_ios premapped=$churn_pm eagain=$churn_eagain | fio: rounds=$fio_rounds ios=$ios errors=$errs mismatches=$bad | premapped_share=$share_pct% ($pm premapped, $fb fallback) | kernel_complaints=$splats | $(($(cut -d. -f1 /proc/uptime) - t0)) s"
check soak-fio-ran test "$fio_rounds" -ge 3
check soak-fio-no-error test "$errs" -eq 0
check soak-fio-no-mismatch test "$bad" -eq 0
check soak-churn-clean test "$churn_bad" -eq 0
check soak-premapped-share test "$pm" -gt 0 -a $((pm * 100)) -ge $(((pm + fb) * 95))
check soak-no-splat test "$splats" -eq 0
check soak-dm-remove dm_remove sk
check soak-ch-remove dm_remove ch
check soak-md0-stop mdadm --stop /dev/md0
check soak-md1-stop mdadm --stop /dev/md1
