#!/usr/bin/env bash
# Fail if a guest console log holds a kernel problem report: WARNING, BUG,
# Oops, KASAN/UBSAN, lockdep/RCU splats, panic, GPF, hung task, Call Trace.
# An OOM kill is a policy decision, not a kernel problem (oom_test provokes
# them): the "Call Trace:" of an OOM-killer report is not one; anything
# else in the report still is.
# Usage: scripts/check-console.sh LOG
# Prints each offending line with some context, exits 1; exits 0 if clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 LOG"
log=$1
[ -f "$log" ] || die "no console log $log"

# A report line starts the kernel message: at the start of the line, or
# right after the printk timestamp (and caller id), so that test names or
# text merely mentioning a word do not match.
prefix='(^|\[ *[0-9]+\.[0-9]+\] )(\[ *[CT][0-9]+\] )?'
reports=(
	'WARNING:'                  # WARN*(), and lockdep/RCU "WARNING: ..." headers
	'-+\[ cut here \]'
	'BUG:'                      # BUG: KASAN/KFENCE/sleeping/soft lockup/...
	'kernel BUG at'
	'Oops'
	'KASAN'
	'UBSAN:'
	'INFO: possible (circular|recursive) locking'
	'(WARNING: )?possible circular locking'
	'inconsistent lock state'
	'suspicious RCU usage'
	'INFO: task .* blocked for more than'
	'INFO: rcu.* stall'
	'rcu: INFO: .*stall'
	'Kernel panic'
	'general protection fault'
	'Call Trace:'
)
re="$prefix($(IFS='|'; echo "${reports[*]}"))"

# The stack of an OOM-killer report: from "invoked oom-killer:" to the end
# of its trace, the "Call Trace:" line is replaced (line numbers kept).
unoom() {
	awk '/invoked oom-killer:/ { oom = 1 }
	     oom && /Call Trace:/ { print "(the stack of the OOM-killer report above)"; next }
	     /<\/TASK>/ { oom = 0 }
	     { print }' "$1"
}

rc=0
hits=$(unoom "$log" | grep -a -n -E -B3 -A12 "$re") || rc=$?
[ $rc -le 1 ] || die "grep failed on $log"
if [ $rc -eq 0 ]; then
	head -n 400 <<<"${hits//$'\r'/}" >&2
	echo "check-console: kernel problem reports in $log (above)" >&2
	exit 1
fi
exit 0
