#!/usr/bin/env bash
# Count the results of a KTAP document with the kernel tree's KUnit parser.
# Usage: scripts/summarize-ktap.sh KTAP_LOG
# Shows kunit.py's per-test output, then as the last line
#   "N passed, N failed, N skipped"
# counting leaf tests. A test the document planned but never reported (a
# crash, a truncated log) counts as failed; a parse error, or a document
# with no tests at all, makes the count at least one failed. Exits
# non-zero if anything failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Whatever goes wrong, the last line is still a count, and a failing one.
fail() {
	echo "error: $*" >&2
	echo "0 passed, 1 failed, 0 skipped"
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
    # A missing test is both crashed and an error: count it once.
    print(f"{c['errors']} KTAP error(s)", file=sys.stderr)
    failed = failed or c["errors"]
if not c["tests"]:
    print("no tests in the document: counted as failed", file=sys.stderr)
    failed = max(failed, 1)
print(f"{c['passed']} passed, {failed} failed, {c['skipped']} skipped")
sys.exit(1 if failed else 0)
PY
