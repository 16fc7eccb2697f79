#!/usr/bin/env bash
# Build the series in the configurations a reviewer tries, and show that it
# adds no compiler warning at W=1:
#   lab          the lab's test configuration (configs/*.config)
#   numa-off     CONFIG_NUMA=n, with KUnit
#   hotplug-off  CONFIG_MEMORY_HOTPLUG=n
#   cpusets-off  CONFIG_CPUSETS=n
# Each variant is the lab's non-debug configuration (guest numa cxl, plus
# KUnit) with one option turned off by scripts/config, except "lab". For
# each: a full build of the series (it must build and link), then every C
# file the series touches compiled with W=1 in the series and in vanilla
# 7.3.4 with the same configuration; a warning the series has and vanilla
# has not (compared without line numbers) is a new warning.
# Usage: scripts/build-matrix.sh [VARIANT...]   (default: all four)
# Prints a line per variant; exits 1 if a build failed or a warning is new.
set -euo pipefail
unset KERNEL_SRC
. "$(dirname "$0")/lib.sh"

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(lab numa-off hotplug-off cpusets-off)
s=$LAB_ROOT/scripts
"$s/build-compare-kernels.sh" >/dev/null	# the vanilla worktree and the series
vanilla=$LAB_CACHE/vanilla
mapfile -t files < <(git -C "$LAB_TREE" diff --name-only "$BASE_TAG..HEAD" -- '*.c')
[ ${#files[@]} -gt 0 ] || die "the series touches no C file?"
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache}
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=lab KBUILD_BUILD_HOST=lab

# configure TREE BUILD VARIANT: the variant's .config in BUILD.
configure() {
	local tree=$1 build=$2 variant=$3 frags="guest numa cxl" off=""
	case $variant in
	lab) frags="guest numa cxl mm-tests cram debug" ;;
	numa-off) off=NUMA ;;
	hotplug-off) off=MEMORY_HOTPLUG ;;
	cpusets-off) off=CPUSETS ;;
	*) die "unknown variant $variant" ;;
	esac
	"$s/build-kernel.sh" -t "$tree" -o "$build" -f "$frags" -c >/dev/null
	"$tree/scripts/config" --file "$build/.config" -e KUNIT ${off:+-d "$off"}
	make -s -C "$tree" O="$build" CC="ccache gcc" olddefconfig >/dev/null
	[ -z "$off" ] || ! grep -q "^CONFIG_$off=y" "$build/.config" ||
		die "$variant: CONFIG_$off is still set after olddefconfig"
	grep -q "^CONFIG_KUNIT=y" "$build/.config" || die "$variant: no KUnit"
}

# w1 TREE BUILD SERIES_BUILD: W=1 warnings of the touched files that the
# configuration builds (those with an object in SERIES_BUILD), without
# line numbers.
w1() {
	local f
	make -s -C "$1" O="$2" CC="ccache gcc" -j"$(nproc)" prepare >/dev/null
	for f in "${files[@]}"; do
		# Kbuild compiles any file asked for by name, also one this
		# configuration leaves out (mempolicy.c without NUMA).
		[ -f "$3/${f%.c}.o" ] || continue
		make -s -C "$1" O="$2" CC="ccache gcc" W=1 "${f%.c}.o" 2>&1 >/dev/null |
			grep -E 'warning:' | sed -E 's/:[0-9]+:[0-9]+:/:/' || true
	done | sort -u
}

bad=0
for v in "${variants[@]}"; do
	sb=$LAB_CACHE/matrix-$v-series vb=$LAB_CACHE/matrix-$v-vanilla
	note "$v: configuring and building the series"
	configure "$LAB_TREE" "$sb" "$v"
	start=$(date +%s)
	if ! make -s -C "$LAB_TREE" O="$sb" CC="ccache gcc" -j"$(nproc)" >"$sb/build.log" 2>&1; then
		tail -n 30 "$sb/build.log" >&2
		echo "$v: BUILD FAILED (log: $sb/build.log)"
		bad=1
		continue
	fi
	built=$(( $(date +%s) - start ))
	note "$v: W=1 on the touched files it builds ($(for f in "${files[@]}"; do [ ! -f "$sb/${f%.c}.o" ] || echo; done | wc -l) of ${#files[@]}), series and vanilla"
	configure "$vanilla" "$vb" "$v"
	w1 "$LAB_TREE" "$sb" "$sb" >"$sb/w1.txt"
	w1 "$vanilla" "$vb" "$sb" >"$vb/w1.txt"
	new=$(comm -23 "$sb/w1.txt" "$vb/w1.txt")
	if [ -n "$new" ]; then
		printf '%s\n' "$new" | sed "s/^/  $v: /" >&2
		echo "$v: built in ${built} s; $(grep -c . <<<"$new") NEW W=1 warning(s) (above)"
		bad=1
	else
		echo "$v: built in ${built} s; no new W=1 warning ($(grep -c . "$sb/w1.txt" || true) in the touched files, as in vanilla)"
	fi
done
exit $bad
