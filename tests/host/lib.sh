# SPDX-License-Identifier: GPL-2.0
# Shared by the host-side tests (tests/host/*.sh): one TAP line per case.
# Sourced, never run.

t_fail=0
t_check() { # t_check NAME CMD...: one case, its verdict CMD's status
	_name=$1
	shift
	if "$@"; then
		echo "ok - $_name"
	else
		echo "not ok - $_name # failed: $*"
		t_fail=1
	fi
}

# t_same NAME EXPECTED ACTUAL: one case comparing two strings
t_same() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		printf 'not ok - %s # expected [%s], got [%s]\n' "$1" "$2" "$3" | tr '\n' ' '
		echo
		t_fail=1
	fi
}
