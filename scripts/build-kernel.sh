#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the patched kernel: unpack Debian's linux-source-6.1 once into the
# cache, sync overlay + series onto a working tree, configure it from
# allnoconfig + config/<flavour>.config and build a bzImage with ccache.
#
# Usage: build-kernel.sh [FLAVOUR] [--config-only]
#   FLAVOUR: prod (default), a config/FLAVOUR.config, or stock: the pristine
#   tree, neither overlay nor patches, with config/base.config less the
#   project's own options (what the benchmark compares against);
#   --config-only stops after the configuration (the series build test
#   needs only that)
# Result: out/bzImage (prod) or out/bzImage-FLAVOUR, and out/FLAVOUR.config.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=prod
config_only=0
for a in "$@"; do
	case "$a" in
	--config-only) config_only=1 ;;
	*) flavour=$a ;;
	esac
done
build=$DMATAG_CACHE/build-$flavour
kconf=$DMATAG_CACHE/kconfig-$flavour
jobs=${JOBS:-$(nproc)}

# The working tree starts as a hard-linked copy of the pristine one.
worktree() {
	[ -f "$SRCTREE/Makefile" ] && return 0
	rm -rf "$SRCTREE.tmp"
	cp -al "$PRISTINE" "$SRCTREE.tmp"
	# directories writable so files can be replaced; files stay shared
	# and read-only, and are only ever replaced by rename
	find "$SRCTREE.tmp" -type d -exec chmod u+w {} +
	rm -f "$SRCTREE.tmp/.dmatag-unpacked"
	mv "$SRCTREE.tmp" "$SRCTREE"
}

# The fragments for a flavour: config/base.config, then config/FLAVOUR.config;
# for stock, base.config without the options that only the series has.
fragments() {
	if [ "$flavour" = stock ]; then
		echo "$kconf/stock.config"
		return
	fi
	echo "$DMATAG_ROOT/config/base.config"
	[ "$flavour" = prod ] || echo "$DMATAG_ROOT/config/$flavour.config"
}
stock_fragment() {
	mkdir -p "$kconf"
	grep -v '^CONFIG_BLK_DMA_TAG' "$DMATAG_ROOT/config/base.config" >"$kconf/stock.config"
}

# Produce .config in a scratch build dir; replace the real one only when it
# differs, so that an unchanged configuration costs no rebuild.
configure() {
	mkdir -p "$kconf" "$build"
	make -s -C "$src" O="$kconf" allnoconfig >/dev/null
	# shellcheck disable=SC2046
	(cd "$src" && scripts/kconfig/merge_config.sh -m -O "$kconf" \
		"$kconf/.config" $(fragments)) >"$kconf/merge.log"
	make -s -C "$src" O="$kconf" olddefconfig >/dev/null
	verify_config "$kconf/.config"
	if ! cmp -s "$kconf/.config" "$build/.config"; then
		cp "$kconf/.config" "$build/.config"
		log "configuration changed"
	fi
	mkdir -p "$DMATAG_OUT"
	cp "$build/.config" "$DMATAG_OUT/$flavour.config"
}

# Every option a fragment asks for must survive olddefconfig: a dropped
# option (missing dependency, typo) is an error, not a surprise at run time.
verify_config() {
	bad=0
	for frag in $(fragments); do
		while read -r line; do
			case "$line" in
			CONFIG_*=*) grep -qxF "$line" "$1" || { log "not in .config: $line"; bad=1; } ;;
			"# CONFIG_"*" is not set")
				sym=${line#\# }
				sym=${sym%% *}
				grep -q "^$sym=" "$1" && { log "set although disabled: $sym"; bad=1; } ;;
			esac
		done <"$frag"
	done
	[ "$bad" -eq 0 ] || die "kernel configuration does not match the fragments"
}

compile() {
	export CCACHE_DIR=${CCACHE_DIR:-$DMATAG_CACHE/ccache}
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
	# depend mode: hash the headers kbuild's -MMD lists instead of running
	# the preprocessor on every miss (a cold build is about 40% faster)
	export CCACHE_DEPEND=${CCACHE_DEPEND:-1}
	export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
	export KBUILD_BUILD_USER=dmatag KBUILD_BUILD_HOST=dmatag
	make -s -C "$src" O="$build" -j"$jobs" CC="ccache gcc" bzImage
}

publish() {
	img=$DMATAG_OUT/bzImage
	[ "$flavour" = prod ] || img=$DMATAG_OUT/bzImage-$flavour
	cmp -s "$build/arch/x86/boot/bzImage" "$img" ||
		cp "$build/arch/x86/boot/bzImage" "$img"
	log "kernel: $img ($(du -h "$img" | cut -f1))"
}

[ -f "$DMATAG_ROOT/config/base.config" ] || die "config/base.config missing"
[ "$flavour" = prod ] || [ "$flavour" = stock ] ||
	[ -f "$DMATAG_ROOT/config/$flavour.config" ] || die "no config/$flavour.config"
need_packages $HOST_PACKAGES
step "unpack linux-source $KERNEL_VERSION" pristine_unpack
if [ "$flavour" = stock ]; then
	# out-of-tree build of the pristine tree: it stays as unpacked
	src=$PRISTINE
	stock_fragment
else
	src=$SRCTREE
	step "working tree" worktree
	step "sync overlay and patches" "$DMATAG_ROOT/scripts/sync-tree.sh"
fi
step "configure ($flavour)" configure
[ "$config_only" = 0 ] || exit 0
step "compile ($flavour, -j$jobs)" compile
publish
