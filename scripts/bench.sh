#!/usr/bin/env bash
# Benchmark the series against vanilla 7.3.4, both built without debug
# options: the order-0 alloc/free loops of page_alloc_bench.ko and the
# anonymous page-fault loop of fault_bench
# (tools/testing/selftests/private_nodes/bench/), in three configurations:
#   vanilla  vanilla 7.3.4
#   series   the series, no private node
#   private  the series, with the test driver's private node online
# The boots alternate (vanilla, series, private, vanilla, ...) to spread
# host noise; a configuration's figure is the median of its per-boot
# medians. Prints them, the ratios series/vanilla (what a system without
# private nodes pays) and private/series (what ordinary allocations pay
# once a private node exists), and the spread of the rounds. A benchmark,
# not a test: exits 0 whatever the figures, non-zero if a build, boot or
# parse fails.
# Usage: scripts/bench.sh   (BENCH_BOOTS=N: boots per configuration, default 2)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

boots=${BENCH_BOOTS:-2}
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BENCH_BOOTS must be a whole number above 0: $boots"
s=$LAB_ROOT/scripts
src=$LAB_ROOT/tools/testing/selftests/private_nodes/bench
metrics="ns_per_pair batch64_ns_per_page ns_per_fault"
configs=(vanilla series private)
declare -A kernel=([vanilla]=vanilla [series]=series [private]=series)
declare -A args=([vanilla]="" [series]="" [private]="lab.private=1")
declare -A tree=([vanilla]=$LAB_CACHE/vanilla [series]=$LAB_TREE)

"$s/build-compare-kernels.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -static -o "$work/fault_bench" "$src/fault_bench.c"
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache}
for k in vanilla series; do
	# The modules build in a scratch copy (the repo stays clean); the
	# series kernel also gets the test driver, to make a private node.
	mod=$work/$k/mod
	mkdir -p "$mod" "$work/$k/stage/modules" "$work/$k/stage/bench"
	cp "$src/page_alloc_bench.c" "$mod/"
	echo "obj-m += page_alloc_bench.o" >"$mod/Kbuild"
	if [ $k = series ]; then
		cp "$LAB_ROOT/tools/testing/selftests/private_nodes/test_modules"/private_node_test.[ch] "$mod/"
		echo "obj-m += private_node_test.o" >>"$mod/Kbuild"
	fi
	make -s -C "$LAB_CACHE/bench-$k" M="$mod" CC="ccache gcc" modules
	cp "$mod"/*.ko "$work/$k/stage/modules/"
	cp "$work/fault_bench" "$work/$k/stage/bench/"
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
	for c in "${configs[@]}"; do
		k=${kernel[$c]}
		note "boot $i of $boots: $c"
		log=$LAB_OUT/bench-$c/boot$i
		"$s/boot.sh" -k "$LAB_CACHE/bench-$k/arch/x86/boot/bzImage" \
			-i "$LAB_OUT/bench-$k/initramfs.cpio.gz" -a "${args[$c]}" \
			-l "$log" -t 900
		tr -d '\r' <"$log/console.log" | awk -v k="$c" -v i="$i" -v want="$metrics" '
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
			}' >>"$figures" || die "$c boot $i: figures missing (console log: $log/console.log)"
	done
done

# The table. spread: the interquartile range of all the rounds of all the
# boots of a configuration, in % of their median. The targets: series
# within 0.05% of vanilla (no private node: the same instructions), private
# within 0.2% of series.
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
# One ratio line and its verdict: configuration b against a, within limit %.
function ratio(m, a, b, limit,   d, noise, v) {
	if (fig[a, m] <= 0) { print "bench: zero figure for " a " " m > "/dev/stderr"; exit 1 }
	d = 100 * (fig[b, m] / fig[a, m] - 1)
	noise = spread[a, m] > spread[b, m] ? spread[a, m] : spread[b, m]
	if (abs(d) <= limit)
		v = noise > limit ? sprintf("within %.2f%%, but the spread (%.2f%%) is wider", limit, noise) : sprintf("within %.2f%%", limit)
	else if (abs(d) <= noise)
		v = sprintf("outside %.2f%%, within the spread (%.2f%%)", limit, noise)
	else
		v = sprintf("outside %.2f%%: %s is %s", limit, b, d > 0 ? "slower" : "faster")
	printf "%-19s %-16s %7.4f %+8.3f%%  %s\n", m, b "/" a, fig[b, m] / fig[a, m], d, v
}
$3 == "release" { rel[$1] = $5; next }
$4 == "median" { med[$1, $3, ++nmed[$1, $3]] = $5; next }
$4 == "round" { rnd[$1, $3, ++nrnd[$1, $3]] = $5 }
END {
	nk = split("vanilla series private", ks)
	nm = split(want, ms)
	printf "kernels: vanilla %s, series %s; %d boots per configuration\n",
		rel["vanilla"], rel["series"], boots
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
	printf "\n%-19s %10s %10s %10s %22s\n", "metric (ns)", "vanilla", "series",
		"private", "spread v/s/p"
	for (j = 1; j <= nm; j++) {
		m = ms[j]
		printf "%-19s %10.2f %10.2f %10.2f %22s\n", m, fig["vanilla", m],
			fig["series", m], fig["private", m],
			sprintf("%.2f%%/%.2f%%/%.2f%%", spread["vanilla", m],
				spread["series", m], spread["private", m])
	}
	print ""
	for (j = 1; j <= nm; j++)
		ratio(ms[j], "vanilla", "series", 0.05)
	for (j = 1; j <= nm; j++)
		ratio(ms[j], "series", "private", 0.2)
}' "$figures" || die "cannot summarize $figures"
note "figures: $figures; logs: $LAB_OUT/bench-{vanilla,series,private}/boot*"
