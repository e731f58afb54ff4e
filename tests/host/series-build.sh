#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The exported series applies with git am to a pristine v6.1.192 git tree,
# every patch leaves the block, md, nvme and io_uring objects building
# without a warning, and sparse finds nothing in the files it adds
# (scripts/series-build.sh). Needs the production .config (make kernel).
set -uo pipefail
DMATAG_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$DMATAG_ROOT/scripts/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$DMATAG_ROOT/scripts/export-series.sh" "$tmp/series" 2>/dev/null ||
	{ echo "not ok - series-build-export # export-series.sh failed"; exit 1; }
bash "$DMATAG_ROOT/scripts/series-build.sh" "$tmp/series"
