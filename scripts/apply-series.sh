#!/usr/bin/env bash
# Apply the series to a kernel tree with git am, in series order.
# Usage: scripts/apply-series.sh                       the lab tree ($LAB_TREE)
#        KERNEL_SRC=/path/to/linux scripts/apply-series.sh   your own git tree
# Lab tree: branch private-nodes is recreated at v7.3-base (an old branch with
# commits not in the series is kept as private-nodes.bak-DATE). Your tree: a
# new branch private-nodes from its HEAD. BRANCH=NAME changes the branch name.
# A patch that does not apply rolls everything back and shows its rejects.
# Exit status:
#   0        the series is applied
#   1        refused, nothing done: not a git tree, not 7.3.x, uncommitted
#            changes, an unfinished am/rebase/merge, ...; or git am failed for
#            another reason than the patch (rolled back)
#   3        the series does not apply: the patch is named, its rejected
#            hunks shown with the file and line each wanted; rolled back
#   128+N    killed by signal N (130 Ctrl-C, 143 TERM), this script or its
#            git am; rolled back
set -euo pipefail
. "$(dirname "$0")/lib.sh"

branch=${BRANCH:-private-nodes}
read_series
patches=()
for p in "${SERIES[@]}"; do
	[ -f "$LAB_PATCHES/$p" ] || die "series lists $p, which is not in $LAB_PATCHES"
	patches+=("$LAB_PATCHES/$p")
done

if [ -n "${KERNEL_SRC:-}" ]; then
	lab=0 tree=$KERNEL_SRC
	[ -d "$tree" ] || die "KERNEL_SRC=$tree: no such directory"
else
	lab=1 tree=$LAB_TREE
	[ -d "$tree/.git" ] || "$LAB_ROOT/scripts/fetch-base.sh"
fi
git_tree_top "$tree"
tree=$(cd "$tree" && pwd -P)
g() { git -C "$tree" "$@"; }

# Only a 7.3.x kernel tree.
[ -f "$tree/Makefile" ] || die "$tree is not a kernel tree (no Makefile)"
version=$(awk -F' *= *' 'function f(k) { return v[k] == "" ? "?" : v[k] }
	$1 ~ /^(VERSION|PATCHLEVEL|SUBLEVEL)$/ && !($1 in v) { v[$1] = $2 }
	END { printf "%s.%s.%s", f("VERSION"), f("PATCHLEVEL"), f("SUBLEVEL") }' "$tree/Makefile")
case $version in
7.3.*) ;;
*) die "$tree: not a 7.3.x tree: found $version" ;;
esac
g rev-parse -q --verify HEAD >/dev/null || die "$tree has no commits"
require_clean "$tree"

if [ $lab -eq 1 ]; then
	start=$(g rev-parse -q --verify "$BASE_TAG^{commit}") ||
		die "$tree has no tag $BASE_TAG (made by scripts/fetch-base.sh)"
	# A branch checked out in another worktree cannot be moved from here.
	if g worktree list --porcelain | awk -v me="$tree" -v b="refs/heads/$branch" \
		'/^worktree /{ wt = substr($0, 10) } $0 == "branch " b && wt != me { f = 1 } END { exit !f }'; then
		die "branch $branch is checked out in another worktree of $tree"
	fi
else
	start=$(g rev-parse HEAD)
	! g rev-parse -q --verify "refs/heads/$branch" >/dev/null ||
		die "$tree already has a branch $branch: delete or rename it first"
fi

orig_ref=$(g symbolic-ref -q --short HEAD || true)
orig_sha=$(g rev-parse HEAD)
am=(am -q --no-3way --no-message-id --no-keep-cr)
if [ $lab -eq 1 ]; then
	# Fixed committer: re-applying the same series gives the same commits.
	am+=(--committer-date-is-author-date --no-gpg-sign)
	export GIT_COMMITTER_NAME=lab GIT_COMMITTER_EMAIL=lab@localhost
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/apply-series.XXXXXX")
applying=0 rejwt=
restore() {
	g am --abort >/dev/null 2>&1 || true
	if [ -n "$orig_ref" ]; then g checkout -q "$orig_ref"; else g checkout -q --detach "$orig_sha"; fi
}
cleanup() {
	[ $applying -eq 0 ] || restore
	[ -z "$rejwt" ] || { g worktree remove --force "$rejwt" 2>/dev/null || true; g worktree prune; }
	rm -rf "$tmp"
}
trap cleanup EXIT
# A signal to us runs its trap as soon as the command in progress returns.
trap 'exit 130' INT
trap 'exit 143' TERM

# show_rejects REV PATCH: apply PATCH with --reject in a throwaway worktree
# at REV (only the files it touches are checked out) and print the rejects.
show_rejects() {
	local paths=() rej found=0
	rejwt=$tmp/reject
	note "rejected hunks (git apply --reject in a throwaway worktree):"
	g worktree add -q --no-checkout --detach "$rejwt" "$1"
	mapfile -t paths < <(sed -n 's|^diff --git a/\(.*\) b/.*|\1|p' "$2" | sort -u)
	[ ${#paths[@]} -eq 0 ] || mapfile -t paths < <(g ls-tree -r --name-only "$1" -- "${paths[@]}")
	[ ${#paths[@]} -eq 0 ] || git -C "$rejwt" checkout -q "$1" -- "${paths[@]}"
	(cd "$rejwt" && git apply --reject "$2" 2>&1 | grep -v '^Checking patch' >&2) || true
	while IFS= read -r rej; do
		found=1
		printf '\n--- %s\n' "${rej#"$rejwt"/}" >&2
		cat "$rej" >&2
		# file:line of each hunk, from its header @@ -LINE,COUNT +...
		awk -v f="${rej#"$rejwt"/}" 'BEGIN { sub(/\.rej$/, "", f) }
			/^@@ -[0-9]/ { split(substr($2, 2), r, ","); n = r[2] == "" || r[2] == 0 ? 1 : r[2]
				printf "%s:%d: rejected hunk: it wanted lines %d-%d\n", f, r[1], r[1], r[1] + n - 1 }' "$rej" >&2
	done < <(find "$rejwt" -path "$rejwt/.git" -prune -o -name '*.rej' -type f -print | sort)
	[ $found -eq 1 ] || echo "(no .rej files: see the errors above)" >&2
	g worktree remove --force "$rejwt"
	rejwt=
}

note "applying ${#patches[@]} patches to $tree (Linux $version) from $(g rev-parse --short "$start")"
applying=1
g checkout -q --detach "$start"
for p in "${patches[@]}"; do
	rc=0
	g "${am[@]}" "$p" >"$tmp/am.log" 2>&1 || rc=$?
	[ $rc -ne 0 ] || continue
	# Not a signal to us: its trap has exited already. Does the patch apply
	# where git am stopped? If it does, git am failed or was killed on its own.
	name=${p#"$LAB_PATCHES"/}
	if g apply --check --cached "$p" 2>/dev/null; then
		cat "$tmp/am.log" >&2
		if [ $rc -gt 128 ] && sig=$(kill -l "$rc" 2>/dev/null); then
			echo "error: git am was killed by SIG$sig on $name" >&2
			exit "$rc"
		fi
		die "git am failed (status $rc) on $name, which applies: see above"
	fi
	at=$(g rev-parse HEAD)
	restore
	applying=0
	# git am's messages, less its advice on resuming (it was aborted).
	grep -v -e '^hint:' -e '^Patch failed at' -e '^When you have resolved' \
		-e '^If you prefer to skip' -e '^To restore the original branch' "$tmp/am.log" >&2 || true
	echo "error: patch does not apply: $name" >&2
	show_rejects "$at" "$p"
	echo "error: the series does not apply: nothing applied, $tree is back at ${orig_ref:-$orig_sha}" >&2
	exit 3
done
new=$(g rev-parse HEAD)

# fingerprints FROM..TO: one line per commit: patch id + author + message.
fingerprints() {
	local c
	for c in $(g rev-list "$1"); do
		printf '%s %s\n' "$(g show "$c" | git patch-id --stable | cut -d' ' -f1)" \
			"$(g log -1 --format='%an <%ae> %aD%n%B' "$c" | git hash-object --stdin)"
	done | sort
}

if old=$(g rev-parse -q --verify "refs/heads/$branch"); then
	if [ "$old" = "$new" ]; then
		note "branch $branch was already this series"
	elif g merge-base --is-ancestor "$start" "$old" &&
		[ -z "$(comm -23 <(fingerprints "$start..$old") <(fingerprints "$start..$new"))" ]; then
		note "replacing branch $branch (its commits are all in the series)"
	else
		bak=$branch.bak-$(date +%Y%m%d-%H%M%S)
		g branch "$bak" "$old"
		note "branch $branch had commits that are not in the series: kept as $bak"
	fi
fi
g checkout -q -B "$branch"
[ $lab -eq 1 ] || [ -z "$orig_ref" ] || g branch -q --set-upstream-to="$orig_ref"
applying=0

echo "$tree: branch $branch, $(g rev-list --count "$start..HEAD") commits on $(g rev-parse --short "$start")"
