#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The KTAP parser of scripts/lib.sh on kernel logs as 6.1's KUnit prints them:
# passes, failures, skips, parameterised cases, and a suite cut short.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"

log_6_1='[    0.812345] KTAP version 1
[    0.812400] 1..3
[    0.812500]     KTAP version 1
[    0.812600]     # Subtest: alpha
[    0.812700]     1..3
[    0.812800]     ok 1 alpha_first
[    0.812900]     # alpha_second: EXPECTATION FAILED at lib/x.c:10
[    0.813000]     not ok 2 alpha_second
[    0.813100]     ok 3 alpha_third # SKIP no hardware
[    0.813200] # alpha: pass:1 fail:1 skip:1 total:3
[    0.813300] not ok 1 alpha
[    0.813400]     KTAP version 1
[    0.813500]     # Subtest: beta
[    0.813600]     1..1
[    0.813700]         KTAP version 1
[    0.813800]         # Subtest: beta_params
[    0.813900]         ok 1 size-512
[    0.814000]         not ok 2 size-4096
[    0.814100]     not ok 1 beta_params
[    0.814200] ok 2 beta
[    0.814300]     KTAP version 1
[    0.814400]     # Subtest: gamma
[    0.814500]     1..4
[    0.814600]     ok 1 gamma_one
[    0.814700] BUG: kernel NULL pointer dereference'

expected='ok alpha.alpha_first
fail alpha.alpha_second
skip alpha.alpha_third no hardware
fail beta.beta_params
ok gamma.gamma_one
fail gamma.(missing) 3 of 4 cases not reported'
t_same ktap-cases-skips-params-crash "$expected" "$(printf '%s\n' "$log_6_1" | ktap_parse)"
t_same ktap-crlf "ok alpha.alpha_first
fail alpha.(missing) 2 of 3 cases not reported" \
	"$(printf '%s\r\n' "$log_6_1" | head -n 6 | ktap_parse)"
t_same ktap-no-ktap "" "$(printf 'Linux version 6.1.192\nRun /init as init process\n' | ktap_parse)"
exit $t_fail
