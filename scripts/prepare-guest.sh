#!/usr/bin/env bash
# Everything a boot needs, from nothing: the base tree, the series applied,
# the kernel, the test modules and programs, and an initramfs whose test
# plan is PLAN (a guest shell script, staged as /lab/run.sh).
# Usage: scripts/prepare-guest.sh PLAN
set -euo pipefail
. "$(dirname "$0")/lib.sh"

plan=${1:?usage: $0 PLAN}
[ -f "$plan" ] || die "no guest plan $plan"
s=$LAB_ROOT/scripts

"$s/install-deps.sh"
[ -n "${KERNEL_SRC:-}" ] || "$s/fetch-base.sh"
"$s/apply-series.sh"
"$s/build-kernel.sh" -t "$LAB_TREE" -o "$LAB_BUILD"
"$s/build-tests.sh" "$LAB_OUT/stage"
cp "$plan" "$LAB_OUT/stage/run.sh"
"$s/make-initramfs.sh" "$LAB_OUT/initramfs.cpio.gz" "$LAB_OUT/stage"
