#!/usr/bin/env bash
# Build the test modules (against the built kernel) and the kselftests,
# and stage them with the guest test plan for the initramfs.
# Usage: scripts/build-tests.sh [STAGE_DIR]   (default: $LAB_OUT/stage)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

stage=${1:-$LAB_OUT/stage}
tests=$LAB_ROOT/tools/testing/selftests/private_nodes
[ -f "$LAB_BUILD/Module.symvers" ] || die "no kernel build in $LAB_BUILD (run scripts/build-kernel.sh)"

rm -rf "$stage"
mkdir -p "$stage/modules" "$stage/selftests"

# External modules build in a scratch copy: the repo stays clean.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$tests"/test_modules/*.[ch] "$tests/test_modules/Makefile" "$work/"
export CCACHE_DIR=${CCACHE_DIR:-$LAB_CACHE/ccache}
make -s -C "$work" KSRC="$LAB_TREE" KDIR="$LAB_BUILD" CC="ccache gcc"
cp "$work"/*.ko "$stage/modules/"

make -s -C "$tests" KSRC="$LAB_TREE" OUTPUT="$stage/selftests"
rm -f "$stage/selftests/lib.o"
cp "$LAB_ROOT/qemu/plans/tests.sh" "$stage/run.sh"
note "staged $(ls "$stage/modules" | wc -l) modules and $(ls "$stage/selftests" | wc -l) test programs in $stage"
