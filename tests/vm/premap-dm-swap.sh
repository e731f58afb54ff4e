# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# cases: 50
# device-mapper composite tags when the members change or cannot premap:
# - table swap under running stock fio verify (auto mode): a linear device
#   moved to another NVMe and back (the data copied while suspended), and a
#   striped set grown by a segment on two more NVMe; no error, no mismatch,
#   remaps counted, at least 99 % of the IO through the swaps premapped
#   (the member that joined gets plain IO from the resume until the worker
#   has mapped the live buffers on it: a few IOs);
# - a mixed stack (striped over 3 NVMe and a loop device): the NVMe members
#   premapped, the loop member plain, data verified, counters show both;
# - crypt over NVMe: explicit map fails with -EOPNOTSUPP, auto mode all
#   plain, data verified.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
S=65536	# 32 MiB

# move NAME FROM TO: suspend, copy the 32 MiB, reload onto TO, resume
move() {
	dm suspend "$1" &&
		dd if="/dev/$2" of="/dev/$3" bs=1M count=32 conv=fsync 2>/dev/null &&
		dm load "$1" --table "0 $S linear /dev/$3 0" &&
		dm resume "$1"
}

# --- linear moved to another NVMe and back, under fio -----------------------
check swap-linear-create dm_create lin "0 $S linear /dev/$n0 0"
lin=$(dm_disk lin)
premap_mode "$lin" auto
r0=$(dma_tag "$lin" remaps) m1=$(dma_tag "$n1" maps)
# long enough for the debug kernel (KASAN) to still write after both moves
bg_fio swap /dev/mapper/lin 45
io_started "$lin"
sleep 6
c0=$(share "$lin")
check swap-linear-to-n1 move lin "$n0" "$n1"
sleep 6
c1=$(share "$lin")
check swap-linear-window-before-first share_at_least before "$lin" "$c0" 99
check swap-linear-back-to-n0 move lin "$n1" "$n0"
sleep 6
check swap-linear-window-between share_at_least between "$lin" "$c1" 99
c2=$(share "$lin")
check swap-linear-fio bg_fio_ok swap
check swap-linear-window-after window after "$lin" "$c2"
say "remaps: $(($(dma_tag "$lin" remaps) - r0))"
check swap-linear-remapped test $(($(dma_tag "$lin" remaps) - r0)) -ge 2
check swap-linear-n1-was-mapped test "$(dma_tag "$n1" maps)" -gt "$m1"
check swap-linear-n1-released no_leak "$n1"
premap_mode "$lin" on
dm_remove lin

# --- a striped set grown by a segment, under fio ----------------------------
P=32768
check grow-create dm_create str "0 $((2 * P)) striped 2 128 /dev/$n2 0 /dev/$n3 0"
str=$(dm_disk str)
premap_mode "$str" auto
m0=$(dma_tag "$n0" maps)
bg_fio grow /dev/mapper/str 16
io_started "$str"
sleep 6
c0=$(share "$str")
grow() {
	dm suspend str &&
		printf '0 %s striped 2 128 /dev/%s 0 /dev/%s 0\n%s %s striped 2 128 /dev/%s %s /dev/%s %s\n' \
			$((2 * P)) "$n2" "$n3" $((2 * P)) $((2 * P)) "$n0" $((4 * S)) "$n1" $((4 * S)) |
		dm load str &&
		dm resume str
}
check grow-reload grow
# mapped by a worker after the resume
joiner_mapped() { test "$(dma_tag "$n0" maps)" -gt "$m0"; }
check grow-new-members-mapped wait_for 10 joiner_mapped
check grow-fio bg_fio_ok grow
check grow-window share_at_least grow "$str" "$c0" 99
# the grown part: fio over all 64 MiB, premapped on all four
pm0=$(dma_tag "$n0" premapped_ios)
check grow-fio-whole fio_verify grow-whole /dev/mapper/str --offset=32M --size=32M
check grow-new-member-premapped test "$(dma_tag "$n0" premapped_ios)" -gt "$pm0"
premap_mode "$str" on
dm_remove str

# --- mixed: striped over 3 NVMe and a loop device ----------------------------
dd if=/dev/zero of=/tmp/loop.img bs=1M count=0 seek=64 2>/dev/null
loop=$(losetup -f)
check mixed-loop losetup "$loop" /tmp/loop.img
L=$((64 * 2048))
check mixed-create dm_create mix "0 $((4 * L)) striped 4 128 /dev/$n0 0 /dev/$n1 0 /dev/$n2 0 $loop 0"
mix=$(dm_disk mix)
c0=$(share "$mix")
tool_cases mixed-verify dmatag-io verify /dev/mapper/mix --plain
tool_cases mixed-map dmatag-io map /dev/mapper/mix
premap_mode "$mix" auto
check mixed-fio-auto fio_verify mixed /dev/mapper/mix --bsrange=4k-256k
set -- $c0 $(share "$mix")
say "mixed: premapped +$(($3 - $1)) fallback +$(($4 - $2))"
check mixed-some-premapped test $(($3 - $1)) -gt 0
check mixed-some-plain test $(($4 - $2)) -gt 0
premap_mode "$mix" on
dm_remove mix
losetup -d "$loop"

# --- crypt over NVMe ------------------------------------------------------------
key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
check crypt-create dm_create cr "0 $S crypt aes-xts-plain64 $key 0 /dev/$n3 0"
cr=$(dm_disk cr)
tool_cases crypt dmatag-io map /dev/mapper/cr --expect 95
premap_mode "$cr" auto
pm3=$(dma_tag "$n3" premapped_ios) maps3=$(dma_tag "$n3" maps)
check crypt-fio-auto fio_verify crypt /dev/mapper/cr --size=16M
check crypt-all-plain test "$(dma_tag "$cr" premapped_ios)" -eq 0
check crypt-member-untouched test "$(dma_tag "$n3" premapped_ios)" -eq "$pm3"
check crypt-member-not-mapped test "$(dma_tag "$n3" maps)" -eq "$maps3"
premap_mode "$cr" on
dm_remove cr

for d in "$n0" "$n1" "$n2" "$n3"; do
	check "$d-no-leak" no_leak "$d"
done
