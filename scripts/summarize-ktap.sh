#!/usr/bin/env bash
# Summarize a KTAP log with the kernel tree's KUnit parser.
# Usage: scripts/summarize-ktap.sh KTAP_LOG
# Shows kunit.py's per-test output, then as the last line
#   "N passed, N failed, N skipped"
# counting leaf test cases; a test the log promised but never reported
# (a crash, a truncated log) counts as failed. Exits non-zero if any test
# failed, if the parser found errors, or if the log has no tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Whatever goes wrong, the last line is still a count.
fail() {
	echo "error: $*" >&2
	echo "0 passed, 0 failed, 0 skipped"
	exit 1
}

[ $# -eq 1 ] || fail "usage: $0 KTAP_LOG"
log=$1
[ -r "$log" ] || fail "cannot read $log"
kunit=$LAB_TREE/tools/testing/kunit/kunit.py
[ -f "$kunit" ] || fail "no $kunit (LAB_TREE=$LAB_TREE)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A serial line may add carriage returns.
tr -d '\r' < "$log" > "$tmp/log"

# kunit.py exits 1 for anything but a pass (even all skipped): judge the
# counts instead. It runs from the kernel tree, hence absolute paths.
python3 "$kunit" parse --json="$tmp/results.json" "$tmp/log" |
	grep -v '^\[[0-9:]*\] Test results stored in ' || true

[ -s "$tmp/results.json" ] || fail "kunit.py parse gave no results"

python3 - "$tmp/results.json" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    c = json.load(f)["misc"]
failed = c["failed"] + c["crashed"]
if c["crashed"]:
    print(f"{c['crashed']} test(s) missing or crashed", file=sys.stderr)
if c["errors"]:
    print(f"{c['errors']} KTAP parse error(s)", file=sys.stderr)
if not c["tests"]:
    print("no tests in the log", file=sys.stderr)
print(f"{c['passed']} passed, {failed} failed, {c['skipped']} skipped")
sys.exit(1 if failed or c["errors"] or not c["tests"] else 0)
PY
