# SPDX-License-Identifier: GPL-2.0
# timeout: 600
# alone: yes
# iommu: strict
# smp: 1
# cases: 8
# The path length of a 4 KiB random read: every traced kernel call per IO
# (the function profiler with no filter, after a warm-up), plain and
# premapped in this boot, on raw NVMe and dm striped x4. Premapped skips the
# IOVA allocation, the page table updates and the IOTLB flush of each IO.
# One vCPU: switching the profiler on for every function patches all of
# the kernel's call sites, and under TCG a second vCPU running one of them
# at that moment can take the patching int3 as a fatal trap (seen: a
# double fault in int3 recursion); with one vCPU nothing else runs then.
# The production kernel's figures against stock's: make bench.
. /tests/guest/lib.sh

n0=$(nvme_ns_of nv0) n1=$(nvme_ns_of nv1) n2=$(nvme_ns_of nv2) n3=$(nvme_ns_of nv3)

check raw-plain path_count raw-plain "/dev/$n0" --plain
raw_plain=$PC_CALLS
check raw-premapped path_count raw-premapped "/dev/$n0"
check raw-premapped-shorter less_than "$PC_CALLS" "$raw_plain"
check striped-create dm_create str "$(striped_table "$n0" "$n1" "$n2" "$n3")"
check striped-plain path_count striped-plain /dev/mapper/str --plain
st_plain=$PC_CALLS
check striped-premapped path_count striped-premapped /dev/mapper/str
check striped-premapped-shorter less_than "$PC_CALLS" "$st_plain"
dm_remove str
check no-leak no_leak "$n0"
