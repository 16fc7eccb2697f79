#!/usr/bin/env bash
# Benchmark CRAM against zswap and against an ordinary lower tier, on the
# lab's test kernel, in one guest (qemu/plans/cram-bench.sh): the same cold
# 256 MiB anonymous working set of compressible data, pushed out of DRAM
# by proactive reclaim into CRAM (the test driver's emulated compressed
# device), into an ordinary lower-tier node, and into zswap (lz4,
# zsmalloc), then read back and written back
# (tools/testing/selftests/private_nodes/bench/cram_bench.c). Prints each
# figure, and the ratios against the targets:
#   read back      CRAM 0 faults and at least 5x faster per page than zswap
#   first write    CRAM's promotion p50 no worse than zswap's swap-in p50
#   demotion       into CRAM at least 80% of the throughput into the
#                  ordinary lower tier (cramhw: the emulated device does
#                  not spend CPU measuring each page with LZ4, as a real
#                  device measures in hardware; cram: it does)
# Figures are guest instructions (QEMU -icount shift=0) unless
# BENCH_ICOUNT=0 (TCG wall-clock ns). A benchmark, not a test: exits 0
# whatever the figures, non-zero if a build, boot or parse fails.
# Usage: scripts/bench-cram.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

s=$LAB_ROOT/scripts
"$s/build-kernel.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-cram.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage
"$s/build-tests.sh" "$stage"
mkdir -p "$stage/bench"
gcc -O2 -Wall -static -o "$stage/bench/cram_bench" \
	"$LAB_ROOT/tools/testing/selftests/private_nodes/bench/cram_bench.c"
cp "$LAB_ROOT/qemu/plans/cram-bench.sh" "$stage/run.sh"
out=$LAB_OUT/bench-cram
rm -rf "$out"
"$s/make-initramfs.sh" "$out/initramfs.cpio.gz" "$stage"

unit="guest instructions (QEMU -icount shift=0)"
if [ "${BENCH_ICOUNT:-1}" = 1 ]; then
	export LAB_QEMU_ACCEL="tcg,thread=single"
	export LAB_QEMU_EXTRA="-icount shift=0,sleep=off,align=off"
else
	unit="TCG wall-clock ns"
fi
note "figures are $unit"
"$s/boot.sh" -k "$LAB_BUILD/arch/x86/boot/bzImage" -i "$out/initramfs.cpio.gz" \
	-a "memhp_default_state=online_kernel" -l "$out" -t 2400
tr -d '\r' <"$out/console.log" | sed -n 's/^BENCH: //p' >"$out/figures.txt"
grep -q '^done$' "$out/figures.txt" ||
	die "the guest did not finish (console log: $out/console.log)"

awk -v unit="$unit" '
$1 ~ /^(cram|cramhw|lower|zswap)$/ && NF == 3 && $3 ~ /^[0-9.]+$/ { fig[$1, $2] = $3; next }
$1 == "failed:" { print "bench-cram: guest: " $0 > "/dev/stderr"; bad = 1 }
function need(k, m) {
	if (!((k, m) in fig)) { print "bench-cram: no figure " k " " m > "/dev/stderr"; bad = 1; exit 1 }
	return fig[k, m]
}
function verdict(ok) { return ok ? "target met" : "target MISSED" }
END {
	if (bad) exit 1
	printf "figures in %s; 256 MiB, %d pages\n", unit, 65536
	printf "%-7s %12s %18s %16s %14s %14s %8s\n", "", "pages_moved",
		"reclaim_per_page", "read_faults/pg", "read_per_page",
		"write_p50", "write_p99"
	n = split("cram cramhw lower zswap", ks)
	for (i = 1; i <= n; i++) {
		k = ks[i]
		printf "%-7s %12d %18d %16.3f %14d %14d %8d\n", k,
			need(k, "pages_moved"), need(k, "reclaim_ns_per_page"),
			need(k, "read_faults_per_page"), need(k, "read_ns_per_page"),
			need(k, "write_p50_ns"), need(k, "write_p99_ns")
		if (need(k, "corrupt") != 0) { print "bench-cram: corrupt pages in " k > "/dev/stderr"; exit 1 }
	}
	r = need("zswap", "read_ns_per_page") / need("cram", "read_ns_per_page")
	printf "read back: CRAM %.3f faults/page, %.1fx faster than zswap (target 0 faults, 5x): %s\n",
		need("cram", "read_faults_per_page"), r,
		verdict(need("cram", "read_faults_per_page") == 0 && r >= 5)
	r = need("cram", "write_p50_ns") / need("zswap", "write_p50_ns")
	printf "first write: CRAM promotion p50 %.2fx zswap swap-in p50, p99 %.2fx (target p50 <= 1x): %s\n",
		r, need("cram", "write_p99_ns") / need("zswap", "write_p99_ns"), verdict(r <= 1)
	r = need("lower", "reclaim_ns_per_page") / need("cramhw", "reclaim_ns_per_page")
	printf "demotion: CRAM throughput %.0f%% of the ordinary lower tier (target 80%%): %s\n",
		100 * r, verdict(r >= 0.8)
	printf "          (%.0f%% with the emulated device measuring each page with LZ4 on the CPU)\n",
		100 * need("lower", "reclaim_ns_per_page") / need("cram", "reclaim_ns_per_page")
}' "$out/figures.txt"
grep -E '^cram (device|stats)|^zswap' "$out/figures.txt" | sed 's/^/  /'
