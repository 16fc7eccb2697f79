# shellcheck shell=bash
# Common settings for the lab scripts. Sourced, never run.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_CACHE=${LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/private-nodes}
# The patched tree and its build directory (out of tree). KERNEL_SRC is
# the user's own tree, which then gets a build directory of its own.
if [ -n "${KERNEL_SRC:-}" ]; then
	LAB_TREE=$KERNEL_SRC
	LAB_BUILD=${LAB_BUILD:-$LAB_CACHE/build-$(printf %s "$KERNEL_SRC" | md5sum | cut -c1-8)}
fi
LAB_TREE=${LAB_TREE:-$LAB_CACHE/linux}
LAB_BUILD=${LAB_BUILD:-$LAB_CACHE/build}
LAB_OUT=${LAB_OUT:-$LAB_ROOT/out}
# The config fragments (configs/NAME.config) of the test kernel.
LAB_FRAGMENTS=${LAB_FRAGMENTS:-guest numa cxl mm-tests cram cxl-sysram debug}
BASE_TAG=v7.3-base

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*" >&2; }

# apt-get with a private sources list: never touches /etc/apt. Its state
# is in LAB_APT_DIR (default $LAB_CACHE/apt), for LAB_APT_SUITES (default
# bookworm and its backports, and trixie-backports).
lab_apt() {
	local dir=${LAB_APT_DIR:-$LAB_CACHE/apt}
	local suites=${LAB_APT_SUITES:-bookworm bookworm-backports trixie-backports}
	mkdir -p "$dir/lists/partial" "$dir/archives/partial"
	local mirror
	if [ ! -f "$dir/debian.sources" ]; then
		# Reuse the mirror the system is configured with.
		mirror=$(grep -hs '^URIs:.*/debian$' /etc/apt/sources.list.d/*.sources |
			 head -n1 | awk '{print $2}')
		[ -n "$mirror" ] || mirror=$(awk '/^deb .*\/debian /{print $2; exit}' \
			/etc/apt/sources.list 2>/dev/null)
		[ -n "$mirror" ] || die "no Debian mirror in the system apt configuration"
		cat > "$dir/debian.sources" <<-SRC
		Types: deb
		URIs: $mirror
		Suites: $suites
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		SRC
	fi
	apt-get -q -o APT::Sandbox::User=root -o Dir::Etc::SourceList="$dir/debian.sources" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$dir/lists" \
		-o Dir::Cache::Archives="$dir/archives" "$@"
}

# The quilt series: patches/ and the list of them, in order, in series.
LAB_PATCHES=$LAB_ROOT/patches
LAB_SERIES=$LAB_ROOT/series

# read_series: set the array SERIES to the patch names listed in series.
# Comments (#) and blank lines are skipped; a name may be followed only by
# -p1, which is what git am assumes.
read_series() {
	[ -f "$LAB_SERIES" ] || die "no series file at $LAB_SERIES"
	SERIES=()
	local line name opt extra
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		read -r name opt extra <<<"$line" || true
		[ -n "$name" ] || continue
		[ -z "$extra" ] && { [ -z "$opt" ] || [ "$opt" = -p1 ]; } ||
			die "series: unsupported options after $name: $opt $extra"
		SERIES+=("$name")
	done <"$LAB_SERIES"
}

# git_tree_top DIR: die unless DIR is the top of a git work tree.
git_tree_top() {
	local top
	top=$(git -C "$1" rev-parse --show-toplevel 2>/dev/null) && [ "$top" -ef "$1" ] ||
		die "$1 is not the top of a git work tree: a git tree is needed so that" \
			"a failed series is rolled back and nothing is ever half-applied"
}

# require_clean DIR: die, listing the changes, if the git tree at DIR is dirty
# or in the middle of an am, rebase, merge or cherry-pick.
require_clean() {
	local dirty state
	for state in rebase-apply rebase-merge MERGE_HEAD CHERRY_PICK_HEAD; do
		[ ! -e "$(cd "$1" && git rev-parse --path-format=absolute --git-path "$state")" ] ||
			die "$1: an unfinished git operation ($state) is in progress"
	done
	dirty=$(git -C "$1" status --porcelain)
	[ -z "$dirty" ] || { printf '%s\n' "$dirty" >&2; die "$1 has uncommitted changes (above): commit or stash them first"; }
}
