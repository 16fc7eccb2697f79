#!/usr/bin/env bash
# Build the two kernels that the comparisons boot side by side: vanilla
# 7.3.4 (a detached worktree of the lab tree at its base, made once in
# $LAB_CACHE/vanilla) and the series, both from the same fragments and
# without debug options (lockdep and DEBUG_VM would dominate any figure),
# into $LAB_CACHE/bench-vanilla and $LAB_CACHE/bench-series.
# Used by scripts/bench.sh and scripts/compare-mm-selftests.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -z "${KERNEL_SRC:-}" ] ||
	die "the comparisons use the lab tree and its $BASE_TAG: unset KERNEL_SRC"
s=$LAB_ROOT/scripts
"$s/install-deps.sh"
"$s/fetch-base.sh"
"$s/apply-series.sh"

vanilla=$LAB_CACHE/vanilla
if [ -e "$vanilla" ]; then
	top=$(git -C "$vanilla" rev-parse --show-toplevel 2>/dev/null) && [ "$top" -ef "$vanilla" ] &&
		common=$(git -C "$vanilla" rev-parse --path-format=absolute --git-common-dir) &&
		[ "$common" -ef "$LAB_TREE/.git" ] || die "$vanilla is not a worktree of $LAB_TREE: move it away"
	require_clean "$vanilla"
	git -C "$vanilla" checkout -q --detach "$BASE_TAG"
else
	git -C "$LAB_TREE" worktree prune
	git -C "$LAB_TREE" worktree add -q --detach "$vanilla" "$BASE_TAG"
fi

note "building the vanilla kernel"
"$s/build-kernel.sh" -t "$vanilla" -o "$LAB_CACHE/bench-vanilla" -f "guest numa cxl mm-tests"
note "building the series kernel"
"$s/build-kernel.sh" -t "$LAB_TREE" -o "$LAB_CACHE/bench-series" -f "guest numa cxl mm-tests"
