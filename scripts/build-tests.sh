#!/usr/bin/env bash
# Build the kselftest target private_nodes (the test programs, and the
# test driver and KUnit suites of its test_modules/) against the built
# kernel, the tree's way, and install it with the tree's kselftest runner
# into STAGE_DIR/kselftest for the initramfs.
# Usage: scripts/build-tests.sh [STAGE_DIR]   (default: $LAB_OUT/stage)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

stage=${1:-$LAB_OUT/stage}
target=$LAB_ROOT/tools/testing/selftests/private_nodes
[ -f "$LAB_BUILD/Module.symvers" ] || die "no kernel build in $LAB_BUILD (run scripts/build-kernel.sh)"
command -v rsync >/dev/null || die "rsync missing (kselftest's install uses it; run scripts/install-deps.sh)"

rm -rf "$stage"
mkdir -p "$stage"

# A kselftest target builds inside tools/testing/selftests of a kernel
# tree: a scratch copy of the tree's tools/ with the target added keeps
# both the tree and this repository clean.
work=$(mktemp -d "${TMPDIR:-/tmp}/build-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -a "$LAB_TREE/tools" "$work/"
mkdir -p "$work/scripts"
cp "$LAB_TREE/scripts/subarch.include" "$work/scripts/"
cp -a "$target" "$work/tools/testing/selftests/"
# gup_test's ioctls, which the tests include from mm/ as mm's selftests do.
mkdir -p "$work/mm"
cp "$LAB_TREE/mm/gup_test.h" "$work/mm/"

# Build from scratch so that every warning shows up on every run.
rm -rf "$LAB_BUILD/kselftest/private_nodes"

# The tests use the kernel's own uapi headers (PAGEMAP_SCAN, ...).
make -s -C "$LAB_TREE" O="$LAB_BUILD" headers
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache}
make -s -C "$work/tools/testing/selftests" TARGETS=private_nodes \
	O="$LAB_BUILD" CC="ccache gcc" KSFT_INSTALL_PATH="$stage/kselftest" \
	install >"$work/make.log" 2>&1 ||
	{ cat "$work/make.log" >&2; die "the private_nodes kselftests did not build"; }
# Compiler warnings are errors here: show them, and fail.
if grep -qE "warning:|error:" "$work/make.log"; then
	cat "$work/make.log" >&2
	die "the private_nodes kselftests built with warnings (above)"
fi
installed=$stage/kselftest/private_nodes
[ -x "$stage/kselftest/run_kselftest.sh" ] && [ -f "$installed/test_modules/private_node_test.ko" ] ||
	die "the kselftest install in $stage/kselftest is incomplete"
# The kernel's own modules the tests load (not installed in the guest
# otherwise: the lab kernel has everything else built in).
mkdir -p "$stage/modules"
ko=$LAB_BUILD/drivers/cxl/type3_drivers/cxl_compression/cxl_compression.ko
[ ! -f "$ko" ] || cp "$ko" "$stage/modules/"
note "staged the kselftest runner, $(grep -c . "$stage/kselftest/kselftest-list.txt") test programs and $(ls "$installed/test_modules"/*.ko | wc -l) modules in $stage/kselftest"
