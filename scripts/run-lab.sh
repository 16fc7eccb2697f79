#!/usr/bin/env bash
# The lab command: build everything from nothing, boot the lab machine,
# make node 2 a private node, show that it is isolated, then opt it into
# migration and memory policies and run the cover letter's TL;DR
# (qemu/plans/demo.sh). Prints the demo's whole output, which ends with
# one line saying whether every step showed what it set out to show, and
# exits non-zero if one did not. The kernel console is in out/lab/.
# Usage: scripts/run-lab.sh [-I]   (-I: then leave a shell in the guest)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

shell=() args="memhp_default_state=online_kernel"
[ "${1:-}" != -I ] || { shell=(-I); args+=" lab.run=1"; }
"$LAB_ROOT/scripts/prepare-guest.sh" "$LAB_ROOT/qemu/plans/demo.sh"
rc=0
"$LAB_ROOT/scripts/boot.sh" -a "$args" -l "$LAB_OUT/lab" "${shell[@]}" || rc=$?
# The demo writes to the second serial port (ktap.log in boot.sh's terms).
demo=$LAB_OUT/lab/ktap.log
echo
if [ -s "$demo" ]; then
	tr -d '\r' <"$demo"
else
	echo "the demo printed nothing (console log: $LAB_OUT/lab/console.log)"
	[ $rc -ne 0 ] || rc=1
fi
echo
echo "kernel console: $LAB_OUT/lab/console.log"
exit $rc
