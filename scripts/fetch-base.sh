#!/usr/bin/env bash
# Fetch Debian's linux-source-7.3 once into the cache and unpack it into a
# git repository whose first commit is the pristine tree (tag v7.3-base).
# Usage: scripts/fetch-base.sh [DEST]   (default: $LAB_TREE)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=${1:-$LAB_TREE}
tarball=$LAB_CACHE/linux-source-7.3.tar.xz

if [ -d "$dest/.git" ] && git -C "$dest" rev-parse -q --verify "$BASE_TAG" >/dev/null; then
	note "base tree already at $dest"
	exit 0
fi
[ ! -e "$dest" ] || [ -z "$(ls -A "$dest")" ] ||
	die "$dest exists and is not a base tree made by this script; move it away"

if [ ! -f "$tarball" ]; then
	command -v apt-get >/dev/null || die "apt-get not found: fetch needs a Debian host"
	note "downloading linux-source-7.3 (Debian trixie-backports)"
	lab_apt update >/dev/null
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && lab_apt download -t trixie-backports linux-source-7.3 >/dev/null)
	dpkg-deb -x "$tmp"/linux-source-7.3_*.deb "$tmp/x"
	mv "$tmp/x/usr/src/linux-source-7.3.tar.xz" "$tarball.part"
	mv "$tarball.part" "$tarball"
fi

note "unpacking into $dest"
mkdir -p "$dest.part"
tar -xf "$tarball" -C "$dest.part" --strip-components=1
cd "$dest.part"
# Debian's packaging ignores everything at the top level; drop its lines.
sed -i -e '/^\/\*$/d' -e '/^!\/debian\/$/d' .gitignore
version=$(make -s kernelversion)
git init -q
git add -A
# Fixed identity and dates: the base commit has the same hash everywhere.
GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
git -c user.name=lab -c user.email=lab@localhost commit -q \
	-m "Linux $version (Debian linux-source-7.3, pristine)"
git tag "$BASE_TAG"
cd - >/dev/null
mv "$dest.part" "$dest"
note "base tree: $dest (Linux $version, tag $BASE_TAG)"
