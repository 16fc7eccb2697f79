#!/usr/bin/env bash
# Systems without private nodes must behave as before: run the tree's own
# mm selftests for the services the series touches, mlock, madvise, KSM
# and khugepaged (patches 6-9), migration and memory policies (12-14),
# write protection (15), reclaim and OOM reaping (16, 17), compaction
# (19), get_user_pages and long-term pinning (20) and memory failure (21)
# (the tree has no NUMA balancing selftest for 18), on vanilla 7.3.4 and
# on the series, both booted in one run
# with no private node, and compare them command by command: exit status
# and the kselftest totals. A comparison, not a CI test: exits 0 when
# every command gives the same result on both kernels, 1 when one differs,
# another status if a build or boot fails. Per-test output of both runs:
# out/mm-compare-{vanilla,series}/ktap.log.
# Usage: scripts/compare-mm-selftests.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

s=$LAB_ROOT/scripts
guest=$LAB_ROOT/qemu/plans/mm-compare.sh
progs=(mlock-random-test mlock2-tests guard-regions madv_populate process_madv
       ksm_tests ksm_functional_tests khugepaged
       migration rmap mkdirty soft-dirty uffd-unit-tests uffd-wp-mremap
       pagemap_ioctl cow droppable mrelease_test compaction_test gup_test
       gup_longterm memory-failure)

"$s/build-compare-kernels.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/mm-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The selftests are the same in both trees (the series does not touch
# them): built once from the lab tree, against its exported headers.
note "building the mm selftests"
make -s -C "$LAB_TREE" O="$LAB_CACHE/bench-series" headers
mkdir -p "$work/stage/selftests"
make -s -C "$LAB_TREE/tools/testing/selftests/mm" OUTPUT="$work/stage/selftests" \
	KHDR_INCLUDES="-isystem $LAB_CACHE/bench-series/usr/include" \
	"${progs[@]/#/$work/stage/selftests/}" >"$work/make.log" 2>&1 ||
	{ tail -20 "$work/make.log" >&2; die "the mm selftests did not build"; }
cp "$guest" "$work/stage/run.sh"
"$s/make-initramfs.sh" "$work/initramfs.cpio.gz" "$work/stage"

for k in vanilla series; do
	note "running the mm selftests on $k"
	log=$LAB_OUT/mm-compare-$k
	"$s/boot.sh" -k "$LAB_CACHE/bench-$k/arch/x86/boot/bzImage" \
		-i "$work/initramfs.cpio.gz" -l "$log" -t 5400
	tr -d '\r' <"$log/console.log" | sed -n 's/^MMTEST: //p' >"$work/$k.txt"
	grep -qx done "$work/$k.txt" || die "$k: the guest did not finish (log: $log/console.log)"
done

# One line per command: both results and whether they agree.
awk -F ' [|] ' '
FNR == 1 { k = (NR == 1) ? "vanilla" : "series" }
$1 ~ /^kernel / { rel[k] = substr($1, 8); next }
NF == 3 {
	if (!(($1) in seen)) { seen[$1] = 1; order[++n] = $1 }
	res[k, $1] = $2 (($3 == "-") ? "" : ", " $3)
}
END {
	printf "vanilla %s, series %s\n\n", rel["vanilla"], rel["series"]
	differ = 0
	for (i = 1; i <= n; i++) {
		c = order[i]; v = res["vanilla", c]; s = res["series", c]
		same = (v == s) ? "same" : "DIFFERENT"
		if (v != s) differ++
		printf "%-36s %s\n", c, same
		printf "    vanilla: %s\n    series:  %s\n", v, s
	}
	printf "\n%d commands, %d with different results\n", n, differ
	exit differ ? 1 : 0
}' "$work/vanilla.txt" "$work/series.txt"
