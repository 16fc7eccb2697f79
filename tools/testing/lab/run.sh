#!/usr/bin/env bash
# Host-side tests of the lab scripts, no kernel build and no QEMU: run
# scripts/apply-series.sh on scratch clones of the lab's base tree, check its
# refusals and its report of a series that does not apply (message, exit
# status), and that it leaves the tree exactly as it was; and what
# scripts/check-console.sh counts as a kernel problem report.
# Usage: tools/testing/lab/run.sh
# Prints one KTAP document on stdout and exits 0 whatever the results (the
# caller's KTAP parser owns the verdict); non-zero only if it cannot run.
# Needs the base tree ($LAB_CACHE/linux, from scripts/fetch-base.sh): without
# it every case is "not ok". The base tree and its branches are only read.
# shellcheck disable=SC2317 # the case_* functions are called by name
set -uo pipefail
unset KERNEL_SRC BRANCH
# shellcheck source=../../../scripts/lib.sh
. "$(dirname "$0")/../../../scripts/lib.sh" || exit 1
exec 3>&1 1>&2 # KTAP on fd 3, anything else on stderr

cases=(clean_base_applies conflicting_local_commit not_a_git_tree dirty_tree
	wrong_version unfinished_git_am console_flags_reports
	console_passes_oom_report)
conflict_patch=0001-numa-introduce-N_MEMORY_PRIVATE-node-state.patch
nodemask=include/linux/nodemask.h

read_series
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-tests.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The same git whoever runs this: no global or system configuration, English
# messages, a committer for apply-series.sh's git am.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C \
	GIT_COMMITTER_NAME=lab-test GIT_COMMITTER_EMAIL=lab-test@localhost
gc() { git -c user.name=lab-test -c user.email=lab-test@localhost "$@"; }

n=0 diag=()
# fail MSG...: the case fails, with these diagnostics; fail_lines MSG: and
# then the lines of stdin.
fail() { diag+=("$@"); }
fail_lines() { fail "$1"; mapfile -t -O ${#diag[@]} diag; }
# result NAME: the KTAP line of the case just run, after its diagnostics
# (and apply-series.sh's stderr if it failed).
result() {
	n=$((n + 1))
	if [ ${#diag[@]} -eq 0 ]; then
		echo "ok $n $1" >&3
		return
	fi
	[ ! -s "$tmp/err" ] || fail_lines "stderr of the script:" < <(sed 's/^/  /' "$tmp/err")
	printf '# %s\n' "${diag[@]}" >&3
	echo "not ok $n $1" >&3
}

echo "KTAP version 1" >&3
echo "1..${#cases[@]}" >&3
if ! base=$(git -C "$LAB_TREE" rev-parse -q --verify "$BASE_TAG^{commit}" 2>/dev/null); then
	for c in "${cases[@]}"; do
		diag=("no base tree at $LAB_TREE (tag $BASE_TAG): run scripts/fetch-base.sh")
		result "$c"
	done
	exit 0
fi
objects=$(git -C "$LAB_TREE" rev-parse --path-format=absolute --git-common-dir)/objects
# A scratch clone checks out only the top Makefile and what the series touches.
mapfile -t sparse < <(cd "$LAB_PATCHES" && sed -n 's|^diff --git a/\([^ ]*\) b/\([^ ]*\)$|/\1\n/\2|p' "${SERIES[@]}" | sort -u)
sparse+=(/Makefile)

# scratch NAME: set tree to a new clone of the base tree, $tmp/NAME, on branch
# work at $BASE_TAG: it borrows the base's objects and checks out only the
# files in sparse. Not git clone, which would copy the base's branches.
scratch() {
	tree=$tmp/$1
	{ git init -q -b work "$tree" &&
		echo "$objects" >"$tree/.git/objects/info/alternates" &&
		git -C "$tree" update-ref refs/heads/work "$base" &&
		git -C "$tree" sparse-checkout set --no-cone "${sparse[@]}" &&
		git -C "$tree" read-tree -u --reset HEAD; } 2>"$tmp/setup.log" ||
		{ fail_lines "setup: could not make a scratch clone:" <"$tmp/setup.log"; return 1; }
}

# commit_change MESSAGE FILE SED-SCRIPT: commit, in tree, FILE edited by sed.
commit_change() {
	{ sed -i "$3" "$tree/$2" && gc -C "$tree" commit -q -m "$1" -- "$2"; } >"$tmp/setup.log" 2>&1 ||
		{ fail_lines "setup: could not commit: $1:" <"$tmp/setup.log"; return 1; }
}

# conflict: commit a local change to the "N_MEMORY," line of enum
# node_states, next to which patch 1 adds N_MEMORY_PRIVATE.
conflict() {
	commit_change "local: reword the N_MEMORY comment" "$nodemask" \
		's|^\(\tN_MEMORY,[[:space:]]*\)/\*.*\*/$|\1/* local change */|'
}

# snapshot DIR: all that a refused or failed run must leave as it was.
snapshot() {
	(cd "$1" && find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 -r md5sum)
	[ -e "$1/.git" ] || return 0
	git -C "$1" symbolic-ref -q HEAD
	git -C "$1" rev-parse HEAD
	git -C "$1" for-each-ref --format='%(refname) %(objectname)'
	git -C "$1" status --porcelain --untracked-files=all
	git -C "$1" worktree list --porcelain
	(cd "$(git -C "$1" rev-parse --absolute-git-dir)" &&
		find rebase-apply rebase-merge MERGE_HEAD CHERRY_PICK_HEAD -type f -print0 2>/dev/null |
		sort -z | xargs -0 -r md5sum)
}

# run_apply: apply-series.sh on tree; its status in status, stderr in $tmp/err.
run_apply() {
	snapshot "$tree" >"$tmp/before" 2>&1
	rm -rf "$tmp/t" && mkdir "$tmp/t"
	status=0
	KERNEL_SRC=$tree TMPDIR=$tmp/t timeout --foreground 120 "$LAB_ROOT/scripts/apply-series.sh" \
		</dev/null >"$tmp/out" 2>"$tmp/err" || status=$?
	snapshot "$tree" >"$tmp/after" 2>&1
	[ -z "$(ls -A "$tmp/t")" ] || fail "apply-series.sh left files in its TMPDIR: $(ls -A "$tmp/t")"
}
expect_status() { [ "$status" = "$1" ] || fail "exit status $status, expected $1"; }
expect_err() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks: $1"; }
expect_unchanged() {
	cmp -s "$tmp/before" "$tmp/after" && return
	fail_lines "the tree changed (- before, + after):" < <(diff "$tmp/before" "$tmp/after" |
		sed -n 's/^</-/p; s/^>/+/p')
}

# The control: a clean tree at the base takes the whole series.
case_clean_base_applies() {
	scratch clean || return
	run_apply
	expect_status 0
	local head count heads
	head=$(git -C "$tree" symbolic-ref -q --short HEAD)
	[ "$head" = private-nodes ] || fail "HEAD is at '$head', not on branch private-nodes"
	count=$(git -C "$tree" rev-list --count work..private-nodes 2>&1)
	[ "$count" = ${#SERIES[@]} ] ||
		fail "branch private-nodes has '$count' commits on work, series lists ${#SERIES[@]}"
	[ -z "$(git -C "$tree" status --porcelain)" ] || fail "the tree is not clean"
	[ "$(git -C "$tree" worktree list | wc -l)" = 1 ] || fail "worktrees left: $(git -C "$tree" worktree list)"
	heads=$(git -C "$tree" for-each-ref --format='%(refname:short)' refs/heads | tr '\n' ' ')
	[ "$heads" = "private-nodes work " ] || fail "branches: $heads, expected private-nodes work"
}

case_conflicting_local_commit() {
	scratch conflict && conflict || return
	# The line of the hunk that adds N_MEMORY_PRIVATE, from its header.
	local line
	line=$(awk -v f="a/$nodemask" '/^diff --git /{ in_f = $3 == f } in_f && /^@@ /{ h = $2 }
		in_f && /^ \tN_MEMORY,/{ split(substr(h, 2), r, ","); print r[1]; exit }' \
		"$LAB_PATCHES/$conflict_patch")
	[ -n "$line" ] || fail "setup: no hunk around N_MEMORY, for $nodemask in $conflict_patch"
	run_apply
	expect_status 3
	expect_err "error: patch does not apply: $conflict_patch"
	expect_err "--- $nodemask.rej"
	expect_err $'+\tN_MEMORY_PRIVATE,'
	expect_err "$nodemask:$line: rejected hunk"
	expect_err "the series does not apply"
	expect_unchanged
}

case_not_a_git_tree() {
	tree=$tmp/plain
	{ mkdir "$tree" && git -C "$LAB_TREE" show "$base:Makefile" >"$tree/Makefile"; } ||
		{ fail "setup: could not make $tree"; return; }
	run_apply
	expect_status 1
	expect_err "is not the top of a git work tree"
	expect_unchanged
}

case_dirty_tree() {
	scratch dirty || return
	echo "/* uncommitted */" >>"$tree/mm/mlock.c"
	run_apply
	expect_status 1
	expect_err "has uncommitted changes"
	expect_err " M mm/mlock.c"
	expect_unchanged
}

case_wrong_version() {
	scratch version &&
		commit_change "local: claim to be 7.2" Makefile 's/^PATCHLEVEL = 3$/PATCHLEVEL = 2/' || return
	run_apply
	expect_status 1
	expect_err "not a 7.3.x tree: found 7.2."
	expect_unchanged
}

case_unfinished_git_am() {
	scratch am && conflict || return
	# It stops on the conflict and leaves its state in .git/rebase-apply.
	{ ! gc -C "$tree" am -q --no-3way "$LAB_PATCHES/$conflict_patch" >/dev/null 2>&1 &&
		[ -d "$tree/.git/rebase-apply" ]; } || { fail "setup: could not leave a git am unfinished"; return; }
	run_apply
	expect_status 1
	expect_err "an unfinished git operation (rebase-apply) is in progress"
	expect_unchanged
}

# console LINE...: run check-console.sh on a log of these lines.
console() {
	printf '%s\n' "$@" >"$tmp/console.log"
	"$LAB_ROOT/scripts/check-console.sh" "$tmp/console.log" >/dev/null 2>"$tmp/err"
	status=$?
}

# The stack of an OOM-killer report, as the kernel prints it.
oom_report=('[  385.0791] oom_test invoked oom-killer: gfp_mask=0x540dca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0'
	'[  385.0796] CPU: 0 UID: 0 PID: 1083 Comm: oom_test'
	'[  385.0796] Call Trace:'
	'[  385.0796]  <TASK>'
	'[  385.0796]  out_of_memory+0xf0/0x570'
	'[  385.0796]  </TASK>'
	'[  385.0800] Mem-Info:')

case_console_flags_reports() {
	console '[    2.0] Call Trace:' '[    2.1]  <TASK>'
	expect_status 1
	console "${oom_report[@]}" '[    3.0] WARNING: CPU: 0 PID: 1 at mm/foo.c:1 bar+0x1/0x2'
	expect_status 1
	console "${oom_report[@]}" '[    3.0] Call Trace:'
	expect_status 1
}

case_console_passes_oom_report() {
	console "${oom_report[@]}" '[  386.0] Out of memory: Killed process 1083 (oom_test)'
	expect_status 0
	rm -f "$tmp/err"
}

for c in "${cases[@]}"; do
	diag=() tree=
	rm -f "$tmp/err"
	"case_$c"
	result "$c"
	[ -z "$tree" ] || rm -rf "$tree"
done
exit 0
