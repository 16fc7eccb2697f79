#!/usr/bin/env bash
# Configure and build the guest kernel out of tree with ccache.
# Usage: scripts/build-kernel.sh [-t TREE] [-o BUILD_DIR] [-f "FRAGMENTS"] [-c]
#   FRAGMENTS: config fragment names in configs/ (default: $LAB_FRAGMENTS,
#   the test kernel's)
#   -c: configure only
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$LAB_TREE build=$LAB_BUILD frags=$LAB_FRAGMENTS configure_only=0
while getopts "t:o:f:c" o; do
	case $o in
	t) tree=$OPTARG ;; o) build=$OPTARG ;; f) frags=$OPTARG ;;
	c) configure_only=1 ;;
	*) die "usage: $0 [-t TREE] [-o BUILD_DIR] [-f FRAGMENTS] [-c]" ;;
	esac
done
[ -f "$tree/Makefile" ] || die "$tree is not a kernel tree (run scripts/apply-series.sh)"
command -v ccache >/dev/null || die "ccache missing (run scripts/install-deps.sh)"

files=()
for f in $frags; do
	[ -f "$LAB_ROOT/configs/$f.config" ] || die "no config fragment configs/$f.config"
	files+=("$LAB_ROOT/configs/$f.config")
done

mkdir -p "$build"
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache} CCACHE_BASEDIR=$tree
# Reproducible build stamps keep ccache hits across trees and rebuilds.
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=lab KBUILD_BUILD_HOST=lab
mk=(make -s -C "$tree" O="$build" CC="ccache gcc" -j"$(nproc)")

"${mk[@]}" tinyconfig >/dev/null
(cd "$build" && "$tree/scripts/kconfig/merge_config.sh" -m -O "$build" \
	"$build/.config" "${files[@]}" >/dev/null)
"${mk[@]}" olddefconfig >/dev/null

# Every requested option must have landed as asked.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) want=$line; sym=${line%%=*} ;;
	"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want="# $sym is not set" ;;
	*) continue ;;
	esac
	got=$(grep -E "^($sym=|# $sym is not set)" "$build/.config" || true)
	if [ "$got" != "$want" ] && ! { [ -z "$got" ] && [ "$want" = "# $sym is not set" ]; }; then
		echo "config: asked '$want', got '${got:-<absent>}'" >&2
		bad=1
	fi
done < <(cat "${files[@]}")
[ $bad -eq 0 ] || die "requested config options did not land (see above)"
[ $configure_only -eq 0 ] || exit 0

start=$(date +%s)
"${mk[@]}" bzImage modules
note "kernel built in $(( $(date +%s) - start )) s: $build/arch/x86/boot/bzImage"
