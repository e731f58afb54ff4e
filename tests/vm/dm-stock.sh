# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# cases: 5
# Stock behaviour: dm linear and dm striped over the NVMe disks keep data
# (fio crc32c verify through io_uring with registered files and buffers).
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
sz=$(sectors "$n0")

# linear: the second half of nv0's namespace
check dm-linear-create dm_create lin "0 $((sz / 2)) linear /dev/$n0 $((sz / 2))"
check dm-linear-verify fio_verify lin /dev/mapper/lin
dm remove lin

# striped over four disks, 64 KiB chunks; fio's blocks straddle no chunk,
# its random offsets hit all four
check dm-striped-create dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")"
writes() { awk '{ print $5 }' "/sys/block/$1/stat"; }
for d in "$n0" "$n1" "$n2" "$n3"; do eval "w0_$d=$(writes "$d")"; done
check dm-striped-verify fio_verify str /dev/mapper/str --bsrange=4k-128k
# the data really went to every member: each saw writes during the verify
# (the linear run before wrote to one of them)
spread() {
	local d w
	for d in "$n0" "$n1" "$n2" "$n3"; do
		eval "w=\$((\$(writes "$d") - w0_$d))"
		say "$d: $w writes during the striped verify"
		[ "$w" -gt 0 ] || return 1
	done
}
check dm-striped-spread spread
dm remove str
