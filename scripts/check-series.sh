#!/usr/bin/env bash
# The mechanical checks a reviewer runs on the series:
#   series and patches/ agree; quilt push -a and git am work on a pristine
#   v7.3-base; checkpatch --strict is clean on every patch;
#   with -b: every prefix of the series builds (bisectability).
# Usage: scripts/check-series.sh [-b]
set -euo pipefail
# The checks run against the lab's pristine base, never a KERNEL_SRC tree.
unset KERNEL_SRC
. "$(dirname "$0")/lib.sh"

build=0
while getopts "b" o; do
	case $o in
	b) build=1 ;;
	*) die "usage: $0 [-b]" ;;
	esac
done
[ -d "$LAB_TREE/.git" ] || die "no base tree at $LAB_TREE (run scripts/fetch-base.sh)"
git -C "$LAB_TREE" rev-parse -q --verify "$BASE_TAG^{commit}" >/dev/null ||
	die "$LAB_TREE has no tag $BASE_TAG"

summary=() failed=0
result() { # result NAME ok|FAIL [DETAIL]
	summary+=("$(printf '%-22s %s%s' "$1" "$2" "${3:+ ($3)}")")
	[ "$2" != FAIL ] || failed=1
}
finish() {
	echo "check-series summary:"
	printf '  %s\n' "${summary[@]}"
	[ $failed -eq 0 ] || die "the series has problems (above)"
	exit 0
}

# Everything happens in one throwaway worktree, reset to pristine per step.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-series.XXXXXX")
wt=$tmp/linux check_branch=check-series-$$
cleanup() {
	rm -rf "$wt"
	git -C "$LAB_TREE" worktree prune
	git -C "$LAB_TREE" branch -q -D "$check_branch" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pristine() {
	git -C "$wt" checkout -q -f --detach "$BASE_TAG"
	git -C "$wt" clean -q -ffdx
	[ -z "$(git -C "$wt" status --porcelain)" ] || die "could not reset $wt to $BASE_TAG"
}

# (a) series and patches/ agree.
read_series
problems=()
for p in "${SERIES[@]}"; do
	[ -f "$LAB_PATCHES/$p" ] || problems+=("listed but missing: $p")
	[ "$p" != 0000-cover-letter.patch ] || problems+=("the cover letter is listed")
done
dups=$(printf '%s\n' "${SERIES[@]}" | sort | uniq -d)
[ -z "$dups" ] || problems+=("listed twice: $dups")
if [ -d "$LAB_PATCHES" ]; then
	while IFS= read -r f; do
		printf '%s\n' "${SERIES[@]}" | grep -qxF "$f" || problems+=("not listed: $f")
	done < <(cd "$LAB_PATCHES" && find . -name '*.patch' ! -name 0000-cover-letter.patch | sed 's|^\./||' | sort)
fi
[ ${#SERIES[@]} -gt 0 ] || problems+=("the series is empty")
if [ ${#problems[@]} -eq 0 ]; then
	result "series vs patches/" ok "${#SERIES[@]} patches"
else
	printf 'series: %s\n' "${problems[@]}" >&2
	result "series vs patches/" FAIL "${#problems[@]} problems"
	finish # the other checks need a consistent series
fi

note "making a pristine worktree of $LAB_TREE at $BASE_TAG"
git -C "$LAB_TREE" worktree add -q --detach "$wt" "$BASE_TAG"

# (b) quilt push -a, no fuzz allowed (git am allows none either).
note "quilt push -a"
if (cd "$wt" && QUILT_PATCHES=$LAB_PATCHES QUILT_SERIES=$LAB_SERIES \
	quilt --quiltrc - push -a -q --fuzz=0) >"$tmp/quilt.log" 2>&1; then
	result "quilt push -a" ok
else
	cat "$tmp/quilt.log" >&2
	result "quilt push -a" FAIL "see above"
fi
pristine

# (c) git am, through apply-series.sh (shows the rejects on failure).
note "git am"
if BRANCH=$check_branch KERNEL_SRC=$wt "$LAB_ROOT/scripts/apply-series.sh" >"$tmp/am.log" 2>&1; then
	result "git am" ok
else
	cat "$tmp/am.log" >&2
	result "git am" FAIL "see above"
fi
git -C "$wt" checkout -q --detach "$BASE_TAG"
git -C "$LAB_TREE" branch -q -D "$check_branch" 2>/dev/null || true
pristine

# (d) checkpatch --strict, from the pristine tree.
note "checkpatch --strict"
bad=0
for p in "${SERIES[@]}"; do
	(cd "$wt" && ./scripts/checkpatch.pl --strict --color=never "$LAB_PATCHES/$p") >"$tmp/cp.log" 2>&1 || true
	counts=$(sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' "$tmp/cp.log")
	read -r e w c <<<"${counts:-? ? ?}"
	printf '  %-64s %s errors, %s warnings, %s checks\n' "$p" "$e" "$w" "$c"
	if [ "$e $w $c" != "0 0 0" ]; then
		bad=$((bad + 1))
		sed 's/^/    /' "$tmp/cp.log"
	fi
done
if [ $bad -eq 0 ]; then result "checkpatch --strict" ok; else result "checkpatch --strict" FAIL "$bad patches"; fi

# (e) every prefix of the series builds.
if [ $build -eq 1 ]; then
	built=0
	for p in "${SERIES[@]}"; do
		note "build with the series up to $p"
		git -C "$wt" -c user.name=lab -c user.email=lab@localhost am -q --no-3way "$LAB_PATCHES/$p" ||
			{ git -C "$wt" am --abort; break; }
		if ! "$LAB_ROOT/scripts/build-kernel.sh" -t "$wt" -o "$tmp/build"; then
			echo "build failed with the series up to $p" >&2
			break
		fi
		built=$((built + 1))
	done
	if [ $built -eq ${#SERIES[@]} ]; then
		result "bisect builds" ok "$built prefixes"
	else
		result "bisect builds" FAIL "$built of ${#SERIES[@]} prefixes built"
	fi
else
	result "bisect builds" skipped "use -b"
fi

finish
