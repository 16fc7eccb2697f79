#!/usr/bin/env bash
# The test command: build everything from nothing, test the lab scripts on
# the host, boot the lab, run every KUnit suite and kselftest in the guest
# and check the guest's console for kernel reports. Every result is a test
# of one KTAP document, out/boot/results.ktap:
#   1 lab_scripts          the host-side tests of scripts/ (tools/testing/lab)
#   2 device_model         the host tests of the compressed CXL device model
#                          (qemu/cxl-compress-model/model_test.c)
#   3 guest                the guest's KTAP (qemu/plans/tests.sh); "not ok"
#                          if the guest did not run to the end
#   4 guest_console_clean  no WARNING, BUG, Oops, KASAN, lockdep, RCU or
#                          hung-task report on the console or in dmesg
# kunit.py parse (scripts/summarize-ktap.sh) counts its leaf tests and
# prints the last line, "N passed, N failed, N skipped"; a test planned but
# never reported counts as failed. Exits non-zero if any test failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

s=$LAB_ROOT/scripts
logs=$LAB_OUT/boot
start=$(date +%s)
"$s/prepare-guest.sh" "$LAB_ROOT/qemu/plans/tests.sh"
mkdir -p "$logs"

lab_ok=ok
"$LAB_ROOT/tools/testing/lab/run.sh" >"$logs/lab-scripts.log" || lab_ok="not ok"

# The compressed CXL device model's host tests, in its build directory
# (a disk file system: the model's change tracking needs one).
model_ok=ok
{ make -s -C "$LAB_ROOT/qemu/cxl-compress-model" O="$LAB_OUT/model" &&
  "$LAB_OUT/model/model_test" "$LAB_OUT/model/cxl-compress-model" "$LAB_OUT/model"
} >"$logs/device-model.log" || model_ok="not ok"

guest_ok=ok
"$s/boot.sh" -C -a "memhp_default_state=online_kernel" -t "${LAB_TIMEOUT:-2700}" \
	-l "$logs" || guest_ok="not ok"
console_ok=ok
for log in "$logs/console.log" "$logs/dmesg.log"; do
	"$s/check-console.sh" "$log" || console_ok="not ok"
done
note "total time $(( $(date +%s) - start )) s; logs in $logs"

# A document with a failed top-level test fails as a whole.
has_failure() { tr -d '\r' <"$1" 2>/dev/null | grep -q '^not ok '; }
if has_failure "$logs/lab-scripts.log"; then lab_ok="not ok"; fi
if has_failure "$logs/device-model.log"; then model_ok="not ok"; fi
if has_failure "$logs/ktap.log"; then guest_ok="not ok"; fi

# nest NAME FILE: FILE's KTAP document as the subtest NAME, one level down.
nest() {
	echo "    KTAP version 1"
	echo "    # Subtest: $1"
	tr -d '\r' <"$2" | sed -e '1{/^KTAP version /d}' -e 's/^/    /'
}
{
	echo "KTAP version 1"
	echo "1..4"
	nest lab_scripts "$logs/lab-scripts.log"
	echo "$lab_ok 1 lab_scripts"
	nest device_model "$logs/device-model.log"
	echo "$model_ok 2 device_model"
	nest guest "$logs/ktap.log"
	echo "$guest_ok 3 guest"
	echo "$console_ok 4 guest_console_clean"
} >"$logs/results.ktap"
exec "$s/summarize-ktap.sh" "$logs/results.ktap"
