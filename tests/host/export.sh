#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# scripts/export-series.sh on a toy kernel tree: `git am` of the exported
# series on the pristine tree gives exactly the tree sync-tree.sh builds, and
# an overlay file that no patch claims stops the export.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/pristine S=$tmp/src R=$tmp/repo G=$tmp/git
mkdir -p "$P/block" "$R/patches" "$R/block" "$R/include/linux"
printf 'int a;\nint b;\n' >"$P/block/blk-core.c"
printf 'obj-y += blk-core.o\n' >"$P/block/Makefile"
cp -al "$P" "$S"
printf '// SPDX-License-Identifier: GPL-2.0\nint thing;\n' >"$R/block/blk-thing.c"
printf '/* SPDX-License-Identifier: GPL-2.0 */\nextern int thing;\n' >"$R/include/linux/thing.h"
cat >"$R/patches/0001-block-add-thing.patch" <<'EOP'
From: dmatag <dmatag@example.org>
Subject: [PATCH] block: add the thing

The thing, in new files only.

Signed-off-by: dmatag <dmatag@example.org>
EOP
cat >"$R/patches/0002-block-build-thing.patch" <<'EOP'
From: dmatag <dmatag@example.org>
Subject: [PATCH] block: build the thing

Signed-off-by: dmatag <dmatag@example.org>
---
diff --git a/block/Makefile b/block/Makefile
--- a/block/Makefile
+++ b/block/Makefile
@@ -1 +1,2 @@
 obj-y += blk-core.o
+obj-y += blk-thing.o
-- 
2.39.5
EOP
printf '%s\n' '# toy' '0001-block-add-thing.patch block/blk-thing.c include/linux/thing.h' \
	'0002-block-build-thing.patch' >"$R/patches/series"
git -C "$R" init -q

DMATAG_ROOT=$R bash "$top/scripts/sync-tree.sh" "$P" "$S" >/dev/null 2>&1
t_check export-runs eval 'DMATAG_ROOT=$R bash "$top/scripts/export-series.sh" "$tmp/out" 2>/dev/null'
t_same export-two-mails "2" "$(ls "$tmp/out"/*.patch | wc -l)"
# neither mail has a Fixes: tag: both are the feature's, none a fix's
t_same export-split-feature "2" "$(ls "$tmp/out/dma-tags"/*.patch | wc -l)"
t_check export-split-no-fixes test ! -e "$tmp/out/fixes"

cp -a "$P" "$G"
git -C "$G" init -q
git -C "$G" -c user.name=t -c user.email=t@t add -A
git -C "$G" -c user.name=t -c user.email=t@t commit -qm pristine
git -C "$G" tag pristine-base
t_check export-git-am git -C "$G" -c user.name=t -c user.email=t@t am -q "$tmp"/out/*.patch
t_same export-two-commits "2" "$(git -C "$G" rev-list --count pristine-base..HEAD 2>&1)"
t_check export-equals-synced-tree diff -r -x .git -x .dmatag-manifest "$G" "$S"
t_same export-first-commit-subject "block: add the thing" "$(git -C "$G" log --format=%s -1 HEAD~1)"

printf 'int stray;\n' >"$R/block/blk-stray.c"
t_check export-orphan-refused eval '! DMATAG_ROOT=$R bash "$top/scripts/export-series.sh" "$tmp/out2" >/dev/null 2>&1'
exit $t_fail
