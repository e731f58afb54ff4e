# SPDX-License-Identifier: GPL-2.0
# dmatag: pre-mapped DMA tags for io_uring registered buffers through device
# stacking, on Linux 6.1. `make help` lists the targets.

SHELL := /bin/bash
OUT := out
IOMMU ?= strict
export IOMMU

TOOLS_SRC := $(wildcard tools/*.c)
TOOLS_BIN := $(patsubst tools/%.c,tools/bin/%,$(TOOLS_SRC))
GUEST_FILES := $(shell find tests/guest tests/vm -type f 2>/dev/null)

.PHONY: all help kernel kernel-debug kernel-stock initramfs tools vm check soak demo bench series clean

all: kernel initramfs

help:
	@echo "make check      set up, host tests, debug kernel, boot and run every test;"
	@echo "                ends 'N passed, N failed' (FLAVOUR=prod: the production kernel)"
	@echo "make soak       the long soak and fuzz runs on the debug kernel: out/soak/report.txt"
	@echo "                (SOAK_ROUNDS=10 FUZZ_ITERS=20000 FUZZ_SEED=...)"
	@echo "make demo       build, boot, NVMe RAID with dmsetup and mdadm, fio table, md hot-swap"
	@echo "make kernel     out/bzImage (patched 6.1.192, ccache, tree in ~/.cache/dmatag)"
	@echo "make kernel-debug  out/bzImage-debug (KASAN, lockdep, dma-debug, kmemleak)"
	@echo "make kernel-stock  out/bzImage-stock (pristine 6.1.192, the project's config)"
	@echo "make initramfs  out/initramfs.cpio.gz (busybox, dmsetup, mdadm, fio, tools, tests)"
	@echo "make tools      the userspace programs in tools/bin"
	@echo "make vm         a shell in the guest (IOMMU=strict|lazy|pt|off, DISKS=4)"
	@echo "make bench      out/bench: plain vs premapped fio per stack and IOMMU mode, report + chart"
	@echo "make series     out/series: cover letter + git am-able patches against v6.1.192"
	@echo "make clean      remove out/ and tools/bin (the kernel cache stays)"

# the kernel build is incremental on its own: always ask it
kernel:
	scripts/build-kernel.sh

kernel-debug:
	scripts/build-kernel.sh debug

kernel-stock:
	scripts/build-kernel.sh stock

tools: $(TOOLS_BIN)

tools/bin/%: tools/%.c tools/dmatag.h
	@mkdir -p tools/bin
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< -luring

initramfs: $(OUT)/initramfs.cpio.gz $(OUT)/initramfs.cpio

# both at once: the archive, and the same uncompressed that the guests boot
$(OUT)/initramfs.cpio.gz $(OUT)/initramfs.cpio &: scripts/mkinitramfs.sh scripts/lib.sh $(GUEST_FILES) $(TOOLS_BIN)
	scripts/mkinitramfs.sh

vm: kernel initramfs
	scripts/vm.sh --interactive --iommu $(IOMMU) --disks $(or $(DISKS),4)

# host tests first (no kernel needed), then the debug kernel is built
check:
	scripts/check.sh

soak: kernel-debug initramfs
	scripts/soak.sh

demo: kernel initramfs
	scripts/demo.sh

bench: kernel kernel-stock initramfs
	scripts/bench.sh

# the export only; make check also applies it with git am and builds each step
series:
	scripts/export-series.sh $(OUT)/series

clean:
	rm -rf $(OUT) tools/bin
