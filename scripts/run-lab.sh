#!/usr/bin/env bash
# The lab command: build everything from nothing, boot the lab machine,
# make node 2 a private node and show that it is isolated (qemu/plans/demo.sh).
# Usage: scripts/run-lab.sh [-I]   (-I: then leave a shell in the guest)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

shell=() args="memhp_default_state=online_kernel"
[ "${1:-}" != -I ] || { shell=(-I); args+=" lab.run=1"; }
"$LAB_ROOT/scripts/prepare-guest.sh" "$LAB_ROOT/qemu/plans/demo.sh"
"$LAB_ROOT/scripts/boot.sh" -a "$args" -l "$LAB_OUT/lab" "${shell[@]}"
[ ${#shell[@]} -gt 0 ] || grep -a '^DEMO:\|^node\|^available' "$LAB_OUT/lab/console.log"
