#!/usr/bin/env bash
# Benchmark the series against vanilla 7.3.4, both built without debug
# options and booted in one run, with no private node: the order-0
# alloc/free loops of page_alloc_bench.ko and the anonymous page-fault loop
# of fault_bench (tools/testing/selftests/private_nodes/bench/). The boots
# alternate (vanilla, series, vanilla, ...) to spread host noise; a
# kernel's figure is the median of its per-boot medians. Prints them, the
# ratio series/vanilla and the spread of the rounds. A benchmark, not a
# test: exits 0 whatever the figures, non-zero if a build, boot or parse
# fails.
# Usage: scripts/bench.sh   (BENCH_BOOTS=N: boots per kernel, default 2)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

boots=${BENCH_BOOTS:-2}
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BENCH_BOOTS must be a whole number above 0: $boots"
s=$LAB_ROOT/scripts
src=$LAB_ROOT/tools/testing/selftests/private_nodes/bench
metrics="ns_per_pair batch64_ns_per_page ns_per_fault"
kernels=(vanilla series)
declare -A tree=([vanilla]=$LAB_CACHE/vanilla [series]=$LAB_TREE)

"$s/build-compare-kernels.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -static -o "$work/fault_bench" "$src/fault_bench.c"
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache}
for k in "${kernels[@]}"; do
	# The module builds in a scratch copy (the repo stays clean).
	mkdir -p "$work/$k/mod" "$work/$k/stage/modules" "$work/$k/stage/selftests"
	cp "$src/page_alloc_bench.c" "$src/Makefile" "$work/$k/mod/"
	make -s -C "$work/$k/mod" KSRC="${tree[$k]}" KDIR="$LAB_CACHE/bench-$k" CC="ccache gcc"
	cp "$work/$k/mod/page_alloc_bench.ko" "$work/$k/stage/modules/"
	cp "$work/fault_bench" "$work/$k/stage/selftests/"
	cp "$LAB_ROOT/qemu/plans/bench.sh" "$work/$k/stage/run.sh"
	rm -rf "$LAB_OUT/bench-$k"
	"$s/make-initramfs.sh" "$LAB_OUT/bench-$k/initramfs.cpio.gz" "$work/$k/stage"
done

# Instruction counting (default): with -icount shift=0 the guest clock
# advances 1 ns per guest instruction, so the figures are deterministic
# instruction counts per operation, free of host noise, which TCG's
# wall-clock timing (10-70% round-to-round spread here) is not.
# BENCH_ICOUNT=0 measures TCG wall-clock time instead.
if [ "${BENCH_ICOUNT:-1}" = 1 ]; then
	export LAB_QEMU_ACCEL="tcg,thread=single"
	export LAB_QEMU_EXTRA="-icount shift=0,sleep=off,align=off"
	note "figures are guest instructions per operation (QEMU -icount shift=0)"
fi

# Each boot's figures as lines "KERNEL BOOT METRIC round|median VALUE",
# and its kernel release as "KERNEL BOOT release - RELEASE".
figures=$LAB_OUT/bench-figures.txt
: >"$figures"
for ((i = 1; i <= boots; i++)); do
	for k in "${kernels[@]}"; do
		note "boot $i of $boots: $k"
		log=$LAB_OUT/bench-$k/boot$i
		"$s/boot.sh" -k "$LAB_CACHE/bench-$k/arch/x86/boot/bzImage" \
			-i "$LAB_OUT/bench-$k/initramfs.cpio.gz" -l "$log" -t 900
		tr -d '\r' <"$log/console.log" | awk -v k="$k" -v i="$i" -v want="$metrics" '
			$1 != "BENCH:" { next }
			$2 == "kernel" && NF == 3 { print k, i, "release", "-", $3 }
			$3 == "round" && NF == 6 && $6 ~ /^[0-9.]+$/ { print k, i, $5, "round", $6; r[$5]++ }
			$3 ~ /^median_/ && NF == 4 && $4 ~ /^[0-9.]+$/ {
				m = substr($3, 8); print k, i, m, "median", $4; med[m]++
			}
			END {
				n = split(want, w)
				for (j = 1; j <= n; j++)
					if (!r[w[j]] || med[w[j]] != 1) {
						print "no figures for " w[j] > "/dev/stderr"
						bad = 1
					}
				exit bad
			}' >>"$figures" || die "$k boot $i: figures missing (console log: $log/console.log)"
	done
done

# The table. spread: the interquartile range of all the rounds of all the
# boots of a kernel, in % of their median.
awk -v want="$metrics" -v boots="$boots" '
function sort(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}
# Quantile q of a sorted a[1..n], interpolated.
function quant(a, n, q,   x, i) {
	x = 1 + (n - 1) * q
	i = int(x)
	return i >= n ? a[n] : a[i] + (x - i) * (a[i + 1] - a[i])
}
function abs(x) { return x < 0 ? -x : x }
$3 == "release" { rel[$1] = $5; next }
$4 == "median" { med[$1, $3, ++nmed[$1, $3]] = $5; next }
$4 == "round" { rnd[$1, $3, ++nrnd[$1, $3]] = $5 }
END {
	nk = split("vanilla series", ks)
	nm = split(want, ms)
	printf "kernels: vanilla %s, series %s; %d boots each\n", rel["vanilla"], rel["series"], boots
	for (j = 1; j <= nm; j++)
		for (c = 1; c <= nk; c++) {
			k = ks[c]; m = ms[j]
			line = ""
			for (b = 1; b <= nmed[k, m]; b++) {
				a[b] = med[k, m, b]
				line = line " " a[b]
			}
			printf "  %-7s %-19s per-boot medians:%s\n", k, m, line
			sort(a, nmed[k, m])
			fig[k, m] = quant(a, nmed[k, m], 0.5)
			for (b = 1; b <= nrnd[k, m]; b++)
				a[b] = rnd[k, m, b]
			sort(a, nrnd[k, m])
			q2 = quant(a, nrnd[k, m], 0.5)
			spread[k, m] = q2 > 0 ? 100 * (quant(a, nrnd[k, m], 0.75) - quant(a, nrnd[k, m], 0.25)) / q2 : 0
		}
	printf "\n%-19s %10s %10s %7s %8s %14s\n", "metric (ns)", "vanilla", "series",
		"ratio", "delta", "spread v/s"
	for (j = 1; j <= nm; j++) {
		m = ms[j]; v = fig["vanilla", m]; s = fig["series", m]
		if (v <= 0) { print "bench: zero figure for " m > "/dev/stderr"; exit 1 }
		d[m] = 100 * (s / v - 1)
		sv = sprintf("%.1f%%/%.1f%%", spread["vanilla", m], spread["series", m])
		printf "%-19s %10.2f %10.2f %7.4f %+7.2f%% %14s\n", m, v, s, s / v, d[m], sv
	}
	print ""
	for (j = 1; j <= nm; j++) {
		m = ms[j]
		noise = spread["vanilla", m] > spread["series", m] ? spread["vanilla", m] : spread["series", m]
		if (abs(d[m]) <= 1)
			verdict = noise > 1 ? sprintf("within 1%%, but the spread (%.1f%%) is wider than 1%%: not resolved", noise) : "within 1%"
		else if (abs(d[m]) <= noise)
			verdict = sprintf("outside 1%%, within noise (spread %.1f%%)", noise)
		else
			verdict = sprintf("outside 1%%, beyond the spread (%.1f%%): the series is %s", noise,
				d[m] > 0 ? "slower" : "faster")
		printf "%s: %+.2f%%, %s\n", m, d[m], verdict
	}
}' "$figures" || die "cannot summarize $figures"
note "figures: $figures; logs: $LAB_OUT/bench-{vanilla,series}/boot*"
