# SPDX-License-Identifier: GPL-2.0
# timeout: 900
# cases: 14
# dmatag-fuzz (tools/dmatag-fuzz.c): random and hostile io_uring register,
# update, map, unmap, IO, close and ring teardown sequences with a fixed seed
# on a raw NVMe namespace, an md raid1 and a dm linear device at once, while
# another thread writes good and bad strings to their sysfs knobs. Every
# errno must be a documented one, every valid IO must transfer all its bytes,
# every read of fuzzer-written sectors must return what was written, and
# nothing may stay mapped. Kernel command line: dmatag.fuzz_seed=N and
# dmatag.fuzz_iters=N (make soak runs it longer).
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)
seed=$(cmdline_arg fuzz_seed)
iters=$(cmdline_arg fuzz_iters)

check md-create md_create md0 1 "/dev/$n1" "/dev/$n2" -- --size=64M
check dm-create dm_create fz "0 $(sectors "$n3") linear /dev/$n3 0"
tool_cases fuzz dmatag-fuzz --seed "${seed:-0x5eedf00d}" --iters "${iters:-1500}" \
	"/dev/$n0" /dev/md0 /dev/mapper/fz
check dm-remove dm_remove fz
check md-stop mdadm --stop /dev/md0
for d in "$n0" "$n1" "$n2" "$n3"; do
	check "no-leak-$d" no_leak "$d"
done
