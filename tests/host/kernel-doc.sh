#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# scripts/kernel-doc of 6.1.192 finds nothing to warn about in the kernel
# files the repo adds (the overlay's .c and .h), nor in the DOC: sections
# Documentation/block/dma-tags.rst pulls in.
set -uo pipefail
DMATAG_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$DMATAG_ROOT/tests/host/lib.sh"
. "$DMATAG_ROOT/scripts/lib.sh"
kdoc=$PRISTINE/scripts/kernel-doc

t_check kernel-doc-available test -f "$kdoc"
# kernel_doc FILE: no output from kernel-doc -none
kernel_doc() {
	out=$(perl "$kdoc" -none "$DMATAG_ROOT/$1" 2>&1)
	[ -z "$out" ] || { echo "$out" | sed 's/^/#   /'; return 1; }
}
for d in $OVERLAY_DIRS; do
	[ -d "$DMATAG_ROOT/$d" ] || continue
	for f in $(cd "$DMATAG_ROOT" && find "$d" -name '*.[ch]' | sort); do
		t_check "kernel-doc-$f" kernel_doc "$f"
	done
done
# every kernel-doc directive of the document names a file that exists
for f in $(sed -n 's/^\.\. kernel-doc:: *//p' "$DMATAG_ROOT/Documentation/block/dma-tags.rst"); do
	t_check "dma-tags.rst-names-$f" test -f "$DMATAG_ROOT/$f"
done
exit $t_fail
