#!/usr/bin/env bash
# The test command again, on a second test kernel with KASAN (generic) on
# top of the debug options: the same build, guest plan and verdict as
# scripts/run-tests.sh, with its own build directory and logs
# (out/kasan/boot/). Too slow for CI's 45 minutes on 2 cores (a cold
# KASAN build alone takes about 18 of them); run it before posting.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export LAB_FRAGMENTS="$LAB_FRAGMENTS kasan"
export LAB_BUILD=${LAB_BUILD_KASAN:-$LAB_CACHE/build-kasan}
export LAB_OUT=$LAB_OUT/kasan
export LAB_TIMEOUT=${LAB_TIMEOUT:-9000}
exec "$LAB_ROOT/scripts/run-tests.sh"
