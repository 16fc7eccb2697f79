#!/usr/bin/env bash
# Fetch cxl-cli for the guest: Debian trixie's `cxl` (ndctl 81) with the
# libraries and the dynamic loader it runs on, unpacked into
# $LAB_CACHE/cxl-cli/root. Bookworm's ndctl 76.1 cannot make RAM regions
# ("region type 'ram' not supported yet"), and trixie's needs glibc 2.38,
# so the guest runs it through trixie's own loader (make-initramfs.sh
# installs a wrapper); nothing is installed on the host.
# Does nothing when the cache already holds it. Usage: scripts/fetch-cxl-cli.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$LAB_CACHE/cxl-cli
root=$dir/root
pkgs=(cxl libcxl1 libdaxctl1 libc6 libjson-c5 libkmod2 libuuid1 libudev1
      libtraceevent1 libtracefs1 libzstd1 liblzma5 libssl3t64 libcap2 zlib1g)

# cxl_run ROOT ARGS...: run ROOT's cxl on ROOT's loader and libraries.
cxl_run() {
	local r=$1
	shift
	"$r/usr/lib64/ld-linux-x86-64.so.2" --library-path \
		"$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu" \
		"$r/usr/bin/cxl" "$@"
}

if [ -f "$dir/stamp" ] && cxl_run "$root" version >/dev/null 2>&1; then
	exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: fetching cxl-cli needs a Debian host"
# Its own apt state: trixie must never be a candidate for host installs.
export LAB_APT_DIR=$dir/apt LAB_APT_SUITES=trixie

note "downloading cxl-cli (Debian trixie: ${pkgs[*]})"
lab_apt update >/dev/null || die "apt-get update for trixie failed"
debs=$dir/debs
rm -rf "$debs" "$root.part"
mkdir -p "$debs" "$root.part"
(cd "$debs" && lab_apt download "${pkgs[@]}" >/dev/null) ||
	die "downloading ${pkgs[*]} from trixie failed"
for deb in "$debs"/*.deb; do
	dpkg-deb -x "$deb" "$root.part"
done
# Every library must come from the unpacked tree, none from the host.
loader=$root.part/usr/lib64/ld-linux-x86-64.so.2
list=$("$loader" --library-path \
	"$root.part/usr/lib/x86_64-linux-gnu:$root.part/lib/x86_64-linux-gnu" \
	--list "$root.part/usr/bin/cxl") || die "the unpacked cxl does not load"
foreign=$(grep -v -e linux-vdso -e "=> $root.part/" <<<"$list" || true)
[ -z "$foreign" ] || die "cxl loads host libraries; add their packages: $foreign"
cxl_run "$root.part" version >/dev/null || die "the unpacked cxl does not run"
rm -rf "$root"
mv "$root.part" "$root"
touch "$dir/stamp"
note "cxl-cli $(cxl_run "$root" version): $root"
