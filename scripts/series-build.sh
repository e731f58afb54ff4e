#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The exported series as a maintainer would take it: `git am` onto a pristine
# v6.1.192 git tree (made once from Debian's tarball and kept in the cache),
# one patch after the other, and after each one a build of the block, md,
# nvme, io_uring, dma, pciehp, iomap, ext4 and xfs objects with the production
# configuration (the options a
# patch does not know yet drop out). At the end, sparse (C=2) on the files
# the series adds. One TAP-like line per step:
#   ok - NAME | not ok - NAME # WHY
#
# Usage: series-build.sh SERIESDIR   (the output of export-series.sh)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: series-build.sh SERIESDIR}
repo=$DMATAG_CACHE/series-git
build=$DMATAG_CACHE/build-series
config=$DMATAG_OUT/prod.config
# what every patch must leave buildable
DIRS="block/ drivers/md/ drivers/nvme/host/ io_uring/ kernel/dma/ drivers/pci/hotplug/
fs/iomap/ fs/ext4/ fs/xfs/"
# the files of the series checked with sparse at the end
SPARSE_OBJS="block/blk-dma-tag.o block/blk-dma-tag-disk.o block/fops.o
fs/iomap/direct-io.o drivers/md/dm-dma-tag.o drivers/md/md-dma-tag.o
drivers/nvme/host/pci-dma-tag.o io_uring/dma-tag.o"
fail=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1 # $2"; fail=1; }

export CCACHE_DIR=${CCACHE_DIR:-$DMATAG_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
export CCACHE_DEPEND=${CCACHE_DEPEND:-1}
export GIT_AUTHOR_NAME=dmatag GIT_AUTHOR_EMAIL=dmatag@users.noreply.github.com
export GIT_COMMITTER_NAME=dmatag GIT_COMMITTER_EMAIL=dmatag@users.noreply.github.com
export GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'

kmake() { # kmake TARGETS...: quiet, errors and warnings kept in $log
	make -s -C "$repo" O="$build" -j"$(nproc)" CC="ccache gcc" "$@" >"$log" 2>&1
}

# the pristine tree as a git repository, tagged v6.1.192, made once
pristine_repo() {
	if [ -d "$repo/.git" ] && git -C "$repo" rev-parse -q --verify v$KERNEL_VERSION >/dev/null; then
		git -C "$repo" am --abort >/dev/null 2>&1
		git -C "$repo" reset -q --hard "v$KERNEL_VERSION" &&
			git -C "$repo" clean -qfdx
		return
	fi
	[ -f "$PRISTINE/Makefile" ] || die "no pristine tree at $PRISTINE (run make kernel)"
	rm -rf "$repo"
	cp -a "$PRISTINE" "$repo" &&
		git -C "$repo" init -q &&
		git -C "$repo" add -A -f &&
		git -C "$repo" commit -q -m "Linux $KERNEL_VERSION (Debian linux-source-6.1)" &&
		git -C "$repo" tag "v$KERNEL_VERSION"
}

# the production configuration, made without a build when there is none
[ -f "$config" ] || "$DMATAG_ROOT/scripts/build-kernel.sh" prod --config-only >/dev/null 2>&1 ||
	die "cannot make $config"
ls "$series"/[0-9][0-9][0-9][0-9]-*.patch >/dev/null 2>&1 || die "no patches in $series"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pristine_repo || die "cannot make the pristine git tree in $repo"
mkdir -p "$build"

for p in "$series"/[0-9][0-9][0-9][0-9]-*.patch; do
	name=$(basename "$p" .patch)
	case "$name" in 0000-*) continue ;; esac	# the cover letter
	if ! git -C "$repo" am -q "$p" >"$log" 2>&1; then
		not_ok "$name-applies" "$(head -n 1 "$log")"
		git -C "$repo" am --abort >/dev/null 2>&1
		break
	fi
	ok "$name-applies"
	cp "$config" "$build/.config"
	if kmake olddefconfig && kmake $DIRS; then
		if grep -q 'warning:' "$log"; then
			not_ok "$name-builds" "$(grep -m1 'warning:' "$log")"
		else
			ok "$name-builds"
		fi
	else
		not_ok "$name-builds" "$(grep -m1 -E 'error|Error' "$log")"
		sed 's/^/#   /' "$log" | head -n 40
	fi
done

# the two series mailed apart (export-series.sh): the fixes alone on the
# pristine tree, then the DMA tags on top, give the tree of the whole series
if [ "$fail" -eq 0 ] && [ -d "$series/fixes" ] && [ -d "$series/dma-tags" ]; then
	whole=$(git -C "$repo" rev-parse HEAD^{tree})
	split=$(mktemp -d)
	git clone -q --no-checkout "$repo" "$split/git" 2>/dev/null
	git -C "$split/git" checkout -q "v$KERNEL_VERSION" 2>/dev/null
	bad=
	for p in "$series"/fixes/[0-9][0-9][0-9][0-9]-*.patch \
		"$series"/dma-tags/[0-9][0-9][0-9][0-9]-*.patch; do
		case "$p" in */0000-*) continue ;; esac
		git -C "$split/git" am -q "$p" >"$log" 2>&1 || { bad=$p; break; }
	done
	if [ -n "$bad" ]; then
		not_ok split-series-apply "${bad#"$series"/}: $(head -n 1 "$log")"
	elif [ "$(git -C "$split/git" rev-parse HEAD^{tree})" != "$whole" ]; then
		not_ok split-series-apply "fixes/ + dma-tags/ differ from the whole series"
	else
		ok split-series-apply
	fi
	rm -rf "$split"
fi

# sparse on what the series adds (C=2: whether or not they need rebuilding);
# only its own files count
if [ "$fail" -eq 0 ]; then
	if kmake C=2 $SPARSE_OBJS; then
		pattern=$(for o in $SPARSE_OBJS; do printf '%s|' "${o%.o}.c"; done)
		if grep -E "(${pattern%|}):[0-9]+:[0-9]+: (warning|error)" "$log" >"$log.own"; then
			not_ok sparse "$(head -n 1 "$log.own")"
			sed 's/^/#   /' "$log.own"
		else
			ok sparse
		fi
		rm -f "$log.own"
	else
		not_ok sparse "$(grep -m1 -E 'error' "$log")"
	fi
fi
exit "$fail"
