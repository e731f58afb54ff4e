#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: on the production kernel, one boot per IOMMU mode, stock fio on
# raw NVMe, dm linear, dm striped x4, dm raid1 (raid target), md raid0 x4,
# md raid1 x2, md raid10 x4, dm linear over md raid10, a file of ext4 on raw NVMe
# and a file of XFS on md raid10 x4: 4 KiB random read
# and write and 128 KiB sequential read at queue depth 32, plain and
# premapped (queue/dma_premap=auto) in alternating A/B runs in the same boot
# (tests/guest/bench.sh). Writes out/bench/runs.txt (every run),
# out/bench/bench.csv (medians per row), out/bench/report.md and
# out/bench/ratio.png (gnuplot), plus the cost of mapping a buffer; then
# boots stock 6.1.192 (out/bzImage-stock) in the same mode for the path
# length of a plain 4 KiB read, next to ours plain and premapped.
#
# Environment: BENCH_IOMMU="strict lazy pt", BENCH_REPS=3, BENCH_RUNTIME=2
# (seconds per fio run); BENCH_REPORT_ONLY=1 remakes the report from the
# runs of the last bench.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

modes=${BENCH_IOMMU:-strict lazy pt}
reps=${BENCH_REPS:-3}
runtime=${BENCH_RUNTIME:-2}
outdir=$DMATAG_OUT/bench
need_packages gnuplot-nox
mkdir -p "$outdir"
dir=$(mktemp -d /dev/shm/dmatag-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# BENCH_REPORT_ONLY=1: remake the report from the runs of the last bench
[ -n "${BENCH_REPORT_ONLY:-}" ] && modes= || : >"$outdir/runs.txt"
for mode in $modes; do
	log "bench: IOMMU $mode, $reps x ${runtime} s per path ..."
	t0=$(date +%s)
	vm_run "$dir/$mode" 3600 --run bench --disks 4 --iommu "$mode" -- \
		"dmatag.bench_reps=$reps" "dmatag.bench_runtime=$runtime"
	tr -d '\r' <"$dir/$mode/console.log" >"$outdir/console-$mode.log"
	[ "$VM_TIMED_OUT" = 0 ] || die "bench timed out (IOMMU $mode)"
	grep -q '== bench: OK' "$outdir/console-$mode.log" ||
		die "bench failed (IOMMU $mode); see $outdir/console-$mode.log"
	grep -E '^(BENCH|MAPCOST|MEMCOST|PATH) ' "$outdir/console-$mode.log" >>"$outdir/runs.txt"
	# the path lengths, ours and stock 6.1.192 with the project's
	# configuration, each in a boot of one vCPU (tests/vm/path-length.sh)
	for k in ours stock; do
		img=$DMATAG_OUT/bzImage
		[ "$k" = ours ] || img=$DMATAG_OUT/bzImage-stock
		vm_run "$dir/$mode-$k" 1800 --run bench --disks 4 --iommu "$mode" \
			--smp 1 --kernel "$img" -- "dmatag.bench_path=$k"
		tr -d '\r' <"$dir/$mode-$k/console.log" >"$outdir/console-$mode-path-$k.log"
		[ "$VM_TIMED_OUT" = 0 ] || die "bench timed out ($k path, IOMMU $mode)"
		grep -q '== bench: OK' "$outdir/console-$mode-path-$k.log" ||
			die "bench failed ($k path, IOMMU $mode); see $outdir/console-$mode-path-$k.log"
		grep -E '^PATH ' "$outdir/console-$mode-path-$k.log" >>"$outdir/runs.txt"
	done
	log "bench: IOMMU $mode done in $(($(date +%s) - t0)) s"
done

# medians per (iommu, stack, workload, path); then one row per pair
awk '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "BENCH" {
	k = $2 SUBSEP $3 SUBSEP $4 SUBSEP $5
	if (!(($2 SUBSEP $3 SUBSEP $4) in seen)) {
		seen[$2 SUBSEP $3 SUBSEP $4] = 1
		order[++n] = $2 SUBSEP $3 SUBSEP $4
	}
	iops[k] = iops[k] " " $8; cpu[k] = cpu[k] " " $9
	map[k] = map[k] " " $10; unmap[k] = unmap[k] " " $11; flush[k] = flush[k] " " $12
	reps[k]++
}
END {
	print "iommu,stack,workload,reps,iops_plain,iops_premapped,ratio,cpu_us_per_io_plain,cpu_us_per_io_premapped,map_plain,unmap_plain,flush_plain,map_premapped,unmap_premapped,flush_premapped"
	for (i = 1; i <= n; i++) {
		split(order[i], f, SUBSEP)
		p = order[i] SUBSEP "plain"; q = order[i] SUBSEP "premapped"
		ip = median(iops[p]); iq = median(iops[q])
		printf "%s,%s,%s,%d,%d,%d,%.2f,%.1f,%.1f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
			f[1], f[2], f[3], reps[p], ip, iq, (ip > 0 ? iq / ip : 0),
			median(cpu[p]), median(cpu[q]), median(map[p]), median(unmap[p]),
			median(flush[p]), median(map[q]), median(unmap[q]), median(flush[q])
	}
}' "$outdir/runs.txt" >"$outdir/bench.csv"

# the chart: premapped/plain IOPS per row, one bar per IOMMU mode
awk -F, 'NR > 1 { key = $2 " " $3; if (!(key in row)) { row[key] = ++n; name[n] = key }
	r[row[key], $1] = $7; m[$1] = 1 }
	END { printf "row"
		split("strict lazy pt", order, " ")
		for (j = 1; j <= 3; j++) if (order[j] in m) printf " %s", order[j]
		print ""
		for (i = 1; i <= n; i++) { gsub(/ /, "/", name[i]); printf "%s", name[i]
			for (j = 1; j <= 3; j++) if (order[j] in m) printf " %s", r[i, order[j]]
			print "" } }' "$outdir/bench.csv" >"$outdir/ratio.dat"
ncols=$(head -n 1 "$outdir/ratio.dat" | wc -w)
gnuplot <<EOF
set terminal pngcairo size 1600,760 noenhanced
set output "$outdir/ratio.png"
set title "premapped / plain IOPS (stock fio, QEMU TCG, median of $reps)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key inside left top
set bmargin 12
set rmargin 8
set xtics rotate by -40
set yrange [0:*]
set ylabel "IOPS ratio"
set grid ytics
plot for [c=2:$ncols] "$outdir/ratio.dat" using c:xtic(1) title columnheader(c), 1 with lines lc rgb "black" notitle
EOF

# the report
{
	echo "# dmatag benchmark"
	echo
	echo "$(date -u +%Y-%m-%d), $(uname -n): $(nproc) host CPUs, QEMU $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p') TCG, guest 2 vCPUs and 2 GiB,"
	echo "emulated Intel IOMMU, NVMe on 1 GiB tmpfs files. Stock fio (io_uring, registered files and"
	echo "buffers; on the -plainfd rows fixed buffers through plain descriptors, --fixedbufs=1 without"
	echo "--registerfiles; QD 32, ${runtime} s per run); plain and premapped (queue/dma_premap=auto) alternate in one"
	echo "boot per IOMMU mode; medians of $reps runs each. Counts are per IO from the ftrace function"
	echo "profiler (dma_map_*, dma_unmap_*, qi_flush_iotlb); CPU is guest busy time per IO."
	echo "Under TCG the emulation dominates and IOPS vary by about 10 %; the counts are exact."
	echo "Premapped counts include the one-time mapping of fio's buffers at their first IO (auto"
	echo "mode: iodepth buffers x members; large for 128 KiB buffers over short runs), and"
	echo "multi-member writes and 128 KiB reads over two stripes count one mapping per member IO."
	echo
	echo "| IOMMU | stack | workload | IOPS plain | IOPS premapped | ratio | CPU us/IO plain | CPU us/IO premapped | map/unmap/flush plain | map/unmap/flush premapped |"
	echo "|---|---|---|---:|---:|---:|---:|---:|---|---|"
	awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s/%s/%s | %s/%s/%s |\n",
		$1, $2, $3, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 }' "$outdir/bench.csv"
	echo
	echo "![premapped / plain IOPS](ratio.png)"
	echo
	echo "## Path length (every traced kernel call per 4 KiB random read)"
	echo
	echo "dmatag-io load: 4096 random 4 KiB READ_FIXED at queue depth 8 after 1024 of warm-up, the"
	echo "ftrace function profiler with no filter on only around the counted IO, in a boot of one"
	echo "vCPU (its timer work is in the figure). Stock is 6.1.192 built with the project's"
	echo "configuration, booted in the same way. Goals: plain within 2 % of stock; premapped in"
	echo "strict mode at most stock's plain in pt mode."
	echo
	echo "| IOMMU | stack | stock plain | ours plain | plain vs stock | ours premapped | premapped vs stock plain (pt) |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	awk '$1 == "PATH" { v[$2, $3, $4, $5] = $6; if (!(($2, $4) in seen)) { seen[$2, $4] = 1; row[++n] = $2 SUBSEP $4 } }
	END { for (i = 1; i <= n; i++) { split(row[i], f, SUBSEP); m = f[1]; st = f[2]
		s = v[m, "stock", st, "plain"]; p = v[m, "ours", st, "plain"]; q = v[m, "ours", st, "premapped"]
		pt = v["pt", "stock", st, "plain"]
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", m, st, s, p,
			(s > 0 && p > 0) ? sprintf("%+.1f %%", (p - s) * 100 / s) : "-", q,
			(pt > 0 && q > 0) ? sprintf("%+.1f %%", (q - pt) * 100 / pt) : "-" } }' "$outdir/runs.txt"
	echo
	echo "## Cost of premapping (one 64 MiB buffer, dmatag-io mapcost)"
	echo
	echo "Memory is the drop of MemFree across the map call (nvme-pci's scatterlist and, where SGLs"
	echo "cannot be used, PRP lists; the IOMMU's page tables); it is approximate (per-CPU page lists)."
	echo "The calls are those of the map and of the unmap that follows, on all members together."
	echo
	echo "| IOMMU | stack | members | map ms | map ms per MiB per member | unmap ms | memory KiB (MemFree drop) | KiB per GiB per member | map/unmap/flush calls |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
	awk '$1 == "MAPCOST" { mib = $5 / 1048576
		printf "| %s | %s | %d | %.1f | %.3f | %.1f | %d | %.0f | %s |\n", $2, $3, $4,
			$6 / 1000, $6 / 1000 / mib / $4, $7 / 1000, $8, $8 * 1024 / mib / $4,
			(NF >= 11 ? $9 "/" $10 "/" $11 : "-") }' "$outdir/runs.txt"
	echo
	echo "## Kernel memory per MiB premapped (dmatag-io memcost)"
	echo
	echo "N buffers of one size registered, then mapped in one call, measured a second later: the"
	echo "MemFree drop of the map per MiB premapped (all kernel memory, IOMMU page tables and IOVA"
	echo "nodes included; noisy), and what the map charged to the memory cgroup (all members together)."
	echo "Goals: 0.05 MiB per MiB for 1,024 x 16 KiB, 0.01 for 64 MiB buffers, on raw NVMe."
	echo
	echo "| IOMMU | stack | members | buffers | buffer size | map ms | MiB per MiB (MemFree drop) | MiB per MiB (memcg charge) |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	awk '$1 == "MEMCOST" { printf "| %s | %s | %d | %d | %d KiB | %.1f | %.4f | %s |\n", $2, $3, $4, $5,
			$6 / 1024, $7, $8 / 1024, $9 == "-" ? "-" : sprintf("%.4f", $9 / 1024) }' "$outdir/runs.txt"
} >"$outdir/report.md"
# the summary for README.md: one row per stack and workload, the IOMMU modes
# side by side
{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -n) ($(nproc) CPUs, QEMU TCG; \`make bench\`, medians of $reps A/B runs of ${runtime} s):"
	echo
	awk -F, '
	NR > 1 { k = $2 " | " $3; if (!(k in row)) { row[k] = ++n; name[n] = k }
		v[k, $1] = sprintf("%d -> %d (x%s)", $5, $6, $7)
		if ($1 == "strict") c[k] = sprintf("%s/%s/%s -> %s/%s/%s", $10, $11, $12, $13, $14, $15)
		m[$1] = 1 }
	END {
		split("strict lazy pt", o, " ")
		printf "| stack | workload |"
		for (j = 1; j <= 3; j++) if (o[j] in m) printf " IOPS %s |", o[j]
		print " map/unmap/flush per IO, strict |"
		printf "|---|---|"
		for (j = 1; j <= 3; j++) if (o[j] in m) printf "---|"
		print "---|"
		for (i = 1; i <= n; i++) {
			printf "| %s |", name[i]
			for (j = 1; j <= 3; j++) if (o[j] in m) printf " %s |", v[name[i], o[j]]
			print " " c[name[i]] " |"
		}
	}' "$outdir/bench.csv"
} >"$outdir/summary.md"
log "bench: $outdir/report.md, $outdir/bench.csv, $outdir/ratio.png, $outdir/summary.md"
