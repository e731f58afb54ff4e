#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# block/blk-dma-tag.c in userspace under ASan and UBSan
# (tools/testing/dma-tag): the locate rule against a brute-force model on
# random buffers and bio positions, the error paths, prep and merges.
# A sanitizer report ends the program non-zero: make check counts that.
set -uo pipefail
dir=$(cd "$(dirname "$0")/../../tools/testing/dma-tag" && pwd)
if ! make -s -C "$dir" >/dev/null; then
	echo "not ok - tag-core-build # tools/testing/dma-tag does not build"
	exit 1
fi
"$dir/tag-core-test" "${TAG_CORE_SEED:-0x5eed1234abcd}" "${TAG_CORE_TRIALS:-20000}"
