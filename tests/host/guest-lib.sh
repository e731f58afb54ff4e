#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The parsing helpers of the guest library (tests/guest/lib.sh) on captured
# /proc/mdstat, ftrace trace_stat and fio output, on the host.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CTL=/dev/null
. "$(dirname "$0")/../guest/lib.sh"
T=$tmp/tracing

# md_state reads /proc/mdstat: run it against a captured one
mdstat='Personalities : [raid1] [raid10]
md1 : active raid10 nvme3n1[3] nvme2n1[2] nvme1n1[1] nvme0n1[0]
      261120 blocks super 1.2 512K chunks 2 near-copies [4/4] [UUUU]

md0 : active raid1 nvme2n1[2] nvme0n1[0] nvme1n1[1](F)
      131072 blocks super 1.2 [2/1] [U_]
      [==>..................]  recovery = 12.5% (16384/131072) finish=0.1min speed=16384K/sec

unused devices: <none>'
printf '%s\n' "$mdstat" >"$tmp/mdstat"
md_state_of() { md_state "$1" "$tmp/mdstat"; }
t_same md-state-raid10-clean "[UUUU]" "$(md_state_of md1)"
t_same md-state-raid1-degraded "[U_]" "$(md_state_of md0)"
t_same md-state-absent "" "$(md_state_of md9)"

# profile_hits sums the hit column of the listed functions over every CPU
mkdir -p "$T/trace_stat"
cat >"$T/trace_stat/function0" <<'EOS'
  Function                               Hit    Time            Avg             s^2
  --------                               ---    ----            ---             ---
  dma_map_page_attrs                    3000    2100.5 us       0.700 us        0.010 us
  dma_unmap_page_attrs                  2990    4000.1 us       1.337 us        0.100 us
  qi_flush_iotlb                        2990    3000.0 us       1.003 us        0.050 us
EOS
cat >"$T/trace_stat/function1" <<'EOS'
  Function                               Hit    Time            Avg             s^2
  --------                               ---    ----            ---             ---
  dma_map_sgtable                         96    300.0 us        3.125 us        0.200 us
  dma_unmap_page_attrs                  1106    1400.0 us       1.265 us        0.100 us
  dma_unmap_sg_attrs                       0    0.0 us          0.000 us        0.000 us
  qi_flush_iotlb                        1106    1100.0 us       0.994 us        0.050 us
EOS
t_same profile-map "3096" "$(profile_hits $DMA_MAP_FUNCS)"
t_same profile-unmap "4096" "$(profile_hits $DMA_UNMAP_FUNCS)"
t_same profile-flush "4096" "$(profile_hits $DMA_FLUSH_FUNCS)"
t_same profile-no-match "0" "$(profile_hits no_such_function)"

# striped_table: the geometry the tests and the demo used to spell out
sectors() { echo 2097152; }
t_same striped-table-4 "0 2097152 striped 4 128 /dev/a 0 /dev/b 0 /dev/c 0 /dev/d 0" \
	"$(striped_table a b c d)"
sectors() { echo 1000; }
t_same striped-table-3-rounds-to-chunks "0 768 striped 3 128 /dev/a 0 /dev/b 0 /dev/c 0" \
	"$(striped_table a b c)"

t_same per-io-one "1.000" "$(per_io 4096 4096)"
t_same per-io-zero-ios "nan" "$(per_io 5 0)"
t_check near-within near 1.015 1
t_check near-outside-fails eval '! near 1.05 1'
# "none" is an integer claim (exactly_zero); near refuses WANT 0
t_check near-zero-refused eval '! near 0.000 0'
t_check near-zero-tiny-fails eval '! near 0.001 0'
t_check near-nan-fails eval '! near nan 1'
exit $t_fail
