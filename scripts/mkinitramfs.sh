#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build out/initramfs.cpio.gz: busybox, dmsetup, mdadm, fio, mkfs.ext4,
# e2fsck, mkfs.xfs and xfs_repair with their
# libraries, the project's tools (tools/bin) and the guest side of the tests.
# The guests boot the same archive uncompressed, out/initramfs.cpio: the
# debug kernel under TCG takes 5 s to inflate the 38 MB of gzip, 2.7 s to
# copy the 87 MB as they are (3.4 s less to /init, for every test's boot).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$DMATAG_OUT/initramfs.cpio
stage=$(mktemp -d "${TMPDIR:-/tmp}/dmatag-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

need_packages busybox-static dmsetup mdadm fio cpio e2fsprogs xfsprogs

# Debian 12 is usr-merged: keep the same layout so ldd's paths work as is.
mkdir -p "$stage"/usr/{bin,sbin,lib,lib64} "$stage"/{dev,proc,sys,tmp,run,etc,mnt,root}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done

copy_with_libs() { # copy_with_libs BINARY...
	for b in "$@"; do
		cp -L "$b" "$stage/usr/bin/"
		ldd "$b" | awk '/=> \//{print $3} /^[[:space:]]*\/.*ld-linux/{print $1}'
	done | sort -u | while read -r lib; do
		real=$(readlink -f "$lib")
		dst=$stage/usr${lib#/usr}
		mkdir -p "$(dirname "$dst")"
		cp "$real" "$dst"
	done
}

cp /bin/busybox "$stage/usr/bin/busybox"
for app in $(busybox --list); do
	[ -e "$stage/usr/bin/$app" ] || ln -s busybox "$stage/usr/bin/$app"
done
copy_with_libs "$(command -v fio)" /usr/sbin/mdadm /usr/sbin/dmsetup
# filesystems: premapped IO on files, their checks after the truncate races
copy_with_libs /usr/sbin/mkfs.ext4 /usr/sbin/e2fsck /usr/sbin/mkfs.xfs \
	/usr/sbin/xfs_repair
# ld.so finds the libraries by the multiarch paths; give it a cache too
printf '/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/ceph\n' >"$stage/etc/ld.so.conf"
ldconfig -r "$stage" 2>/dev/null || true
echo 'DEVICE /dev/nvme*n1 /dev/loop*' >"$stage/etc/mdadm.conf"
mkdir -p "$stage/etc/mdadm" && cp "$stage/etc/mdadm.conf" "$stage/etc/mdadm/"

# the project's userspace tools (make tools), each with its libraries
if [ -d "$DMATAG_ROOT/tools/bin" ]; then
	for t in "$DMATAG_ROOT"/tools/bin/*; do
		[ -f "$t" ] && copy_with_libs "$t"
	done
fi

# guest side of the tests; /init is the guest runner
mkdir -p "$stage/tests"
cp -r "$DMATAG_ROOT/tests/guest" "$DMATAG_ROOT/tests/vm" "$stage/tests/"
cp "$DMATAG_ROOT/tests/guest/init" "$stage/init"
chmod +x "$stage/init"

mkdir -p "$DMATAG_OUT"
(cd "$stage" && find . | cpio -o -H newc --quiet) >"$out.tmp"
gzip -1 <"$out.tmp" >"$out.gz.tmp"
mv "$out.tmp" "$out"
mv "$out.gz.tmp" "$out.gz"
log "initramfs: $out.gz ($(du -h "$out.gz" | cut -f1)), uncompressed $out ($(du -h "$out" | cut -f1))"
