#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print a git-style diff (a/ b/ prefixes, function context) between two
# copies of some kernel files, for a patch of patches/:
#   diff-tree.sh OLD_DIR NEW_DIR
# where OLD_DIR holds pristine copies at their kernel paths and NEW_DIR the
# edited ones. Prepend a mail header (From:, Subject:, body, ---) to make the
# patch file; scripts/sync-tree.sh then applies it and export-series.sh
# exports it.
set -euo pipefail
[ $# -eq 2 ] && [ -d "$1" ] && [ -d "$2" ] || { echo "usage: diff-tree.sh OLD_DIR NEW_DIR" >&2; exit 2; }
old=$(cd "$1" && pwd) new=$(cd "$2" && pwd)
(cd "$new" && find . -type f | sed 's#^\./##' | sort) | while read -r f; do
	git diff --no-index --no-color --src-prefix=a/ --dst-prefix=b/ \
		"$old/$f" "$new/$f" | sed -e "s#a$old/#a/#g" -e "s#b$new/#b/#g" || true
done
