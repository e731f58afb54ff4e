#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# scripts/sync-tree.sh on a toy kernel tree: the overlay and the series land,
# untouched files stay hard links of the pristine tree (so kbuild sees no
# change), a second run replaces nothing, and what the repo drops goes back
# to pristine.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
sync=$(cd "$(dirname "$0")/../.." && pwd)/scripts/sync-tree.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/pristine S=$tmp/src R=$tmp/repo
mkdir -p "$P/block" "$P/include/linux" "$R/patches" "$R/block" "$R/scripts"
printf 'int a;\nint b;\n' >"$P/block/blk-core.c"
printf 'untouched\n' >"$P/include/linux/bio.h"
cp -al "$P" "$S"
printf 'new file\n' >"$R/block/blk-new.c"
cat >"$R/patches/0001-hook.patch" <<'EOP'
--- a/block/blk-core.c
+++ b/block/blk-core.c
@@ -1,2 +1,3 @@
 int a;
+int hook;
 int b;
EOP
echo 0001-hook.patch >"$R/patches/series"

run() { DMATAG_ROOT=$R bash "$sync" "$P" "$S" 2>&1 | tail -n 1; }
ino() { stat -c %i "$1"; }

out=$(run)
t_same sync-overlay-lands "new file" "$(cat "$S/block/blk-new.c")"
t_same sync-patch-applies "int a;
int hook;
int b;" "$(cat "$S/block/blk-core.c")"
t_same sync-untouched-stays-linked "$(ino "$P/include/linux/bio.h")" "$(ino "$S/include/linux/bio.h")"
t_same sync-pristine-unchanged "int a;
int b;" "$(cat "$P/block/blk-core.c")"
t_check sync-reports-changes grep -q '2 file(s) replaced' <<<"$out"

m1=$(stat -c %Y.%i "$S/block/blk-core.c")
t_check sync-second-run-idle grep -q ' 0 file(s) replaced' <<<"$(run)"
t_same sync-second-run-keeps-file "$m1" "$(stat -c %Y.%i "$S/block/blk-core.c")"

rm "$R/block/blk-new.c"
: >"$R/patches/series"
run >/dev/null
t_check sync-dropped-overlay-removed test ! -e "$S/block/blk-new.c"
t_same sync-dropped-patch-restored "int a;
int b;" "$(cat "$S/block/blk-core.c")"

printf '%s\n' '--- a/block/blk-core.c' '+++ b/block/blk-core.c' '@@ -1,1 +1,1 @@' '-int zzz;' '+int q;' \
	>"$R/patches/0002-bad.patch"
echo 0002-bad.patch >"$R/patches/series"
t_check sync-bad-patch-fails eval '! DMATAG_ROOT=$R bash "$sync" "$P" "$S" >/dev/null 2>&1'
exit $t_fail
