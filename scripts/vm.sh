#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the dmatag guest under QEMU (TCG): q35, 2 vCPUs, 2 GiB, an emulated
# Intel IOMMU and N NVMe controllers, each on its own hot-pluggable PCIe root
# port, backed by sparse raw files on tmpfs.
#
# Usage: vm.sh [options] [-- extra kernel args]
#   --run WHAT        what the guest's /init does: shell (default), kunit,
#                     demo, or test:NAME (a file of tests/vm/)
#   --dir DIR         run directory: disk images, qmp.sock, console.log and
#                     ctl.log (guest -> host requests); default: a new one
#                     under /dev/shm
#   --disks N         number of NVMe controllers (default 4)
#   --disk-size SIZE  size of each disk (default 1G)
#   --iommu MODE      strict (default), lazy, pt or off
#   --smp N           vCPUs (default 2)
#   --kernel FILE     default out/bzImage
#   --initrd FILE     default out/initramfs.cpio (the uncompressed archive)
#   --interactive     console on this terminal instead of DIR/console.log
#
# Controller i is device id nvI on root port rpI; the host side of a test can
# unplug and plug it with scripts/qmp.py on DIR/qmp.sock.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

run=shell
dir=
disks=4
disk_size=1G
iommu=strict
smp=2
kernel=$DMATAG_OUT/bzImage
initrd=$DMATAG_OUT/initramfs.cpio
interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--run) run=$2; shift ;;
	--dir) dir=$2; shift ;;
	--disks) disks=$2; shift ;;
	--disk-size) disk_size=$2; shift ;;
	--iommu) iommu=$2; shift ;;
	--smp) smp=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--interactive) interactive=1 ;;
	--) shift; break ;;
	*) die "vm.sh: unknown option $1" ;;
	esac
	shift
done

[ -f "$kernel" ] || die "no kernel at $kernel (make kernel)"
[ -f "$initrd" ] || die "no initramfs at $initrd (make initramfs)"
case "$disks" in ''|*[!0-9]*) die "--disks takes a number" ;; esac
[ "$disks" -ge 1 ] && [ "$disks" -le 8 ] || die "--disks: 1 to 8"
[ -n "$dir" ] || dir=$(mktemp -d /dev/shm/dmatag-vm.XXXXXX)
mkdir -p "$dir"

iommu_args() {
	case "$1" in
	strict) echo "intel_iommu=on iommu.strict=1" ;;
	lazy) echo "intel_iommu=on iommu.strict=0" ;;
	pt) echo "intel_iommu=on iommu=pt" ;;
	off) echo "intel_iommu=off" ;;
	*) die "--iommu: strict, lazy, pt or off" ;;
	esac
}
append="console=ttyS0 panic=-1 quiet $(iommu_args "$iommu") dmatag.run=$run dmatag.iommu=$iommu"
# the built-in KUnit suites run only in the kunit boot; others filter them out
[ "$run" = kunit ] || append="$append kunit.filter_glob=dmatag-none"
append="$append $*"

set -- -accel tcg -machine q35 -cpu max -m "${VM_MEM:-2G}" -smp "$smp" -no-reboot \
	-display none -monitor none \
	-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off \
	-qmp "unix:$dir/qmp.sock,server=on,wait=off"
[ "$iommu" = off ] || set -- "$@" -device intel-iommu
for i in $(seq 0 $((disks - 1))); do
	img=$dir/d$i.img
	[ -f "$img" ] || truncate -s "$disk_size" "$img"
	set -- "$@" \
		-blockdev "driver=file,node-name=f$i,filename=$img" \
		-blockdev "driver=raw,node-name=nb$i,file=f$i" \
		-device "pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1))" \
		-device "nvme,id=nv$i,bus=rp$i,serial=dmtag$i,drive=nb$i"
done
# controller 0 has a second namespace (64 MiB): namespaces of one controller
# share the DMA mapping of a premapped buffer
if [ "$disks" -gt 0 ]; then
	[ -f "$dir/d0n2.img" ] || truncate -s 64M "$dir/d0n2.img"
	set -- "$@" \
		-blockdev "driver=file,node-name=f0n2,filename=$dir/d0n2.img" \
		-blockdev "driver=raw,node-name=nb0n2,file=f0n2" \
		-device "nvme-ns,bus=nv0,drive=nb0n2,nsid=2"
fi
if [ "$interactive" -eq 1 ]; then
	set -- "$@" -serial mon:stdio
else
	set -- "$@" -serial "file:$dir/console.log"
fi
# ttyS1: the guest's requests to the host (hot-plug) and its results
set -- "$@" -serial "file:$dir/ctl.log" \
	-kernel "$kernel" -initrd "$initrd" -append "$append"
echo "$dir" >"$dir/.dmatag-vm"
exec qemu-system-x86_64 "$@"
