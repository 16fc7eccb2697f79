#!/usr/bin/env bash
# The test command: build everything from nothing, boot the lab, run every
# KUnit suite and kselftest, and end with "N passed, N failed, N skipped".
# A kernel report on the guest console (WARNING, BUG, Oops, lockdep, ...)
# counts as one more failed test, whatever the tests said.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

s=$LAB_ROOT/scripts
logs=$LAB_OUT/boot
start=$(date +%s)
"$s/prepare-guest.sh" "$LAB_ROOT/qemu/plans/tests.sh"

boot_ok=1
"$s/boot.sh" -a "memhp_default_state=online_kernel" -t "${LAB_TIMEOUT:-2700}" \
	-l "$logs" || boot_ok=0
note "total time $(( $(date +%s) - start )) s; logs in $logs"

summary=$("$s/summarize-ktap.sh" "$logs/ktap.log" | tee /dev/stderr | tail -n1) || true
read -r passed failed skipped < <(echo "$summary" |
	sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
[ -n "${passed:-}" ] || { passed=0 failed=1 skipped=0; echo "no test results" >&2; }
if [ $boot_ok -eq 1 ]; then
	passed=$((passed + 1))
else
	echo "the guest run failed or the kernel reported a problem (see above)" >&2
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
