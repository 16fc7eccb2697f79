#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/run-lab.sh (busybox sh), staged as /lab/run.sh:
# make the lab's DIMM a private node, show that it is isolated, then let
# its owner open it to memory policies and run the cover letter's TL;DR,
# then hand it to CRAM as a compressed tier. The demo's whole output, the commands' own output included, goes to the
# second serial port, which the host prints; the kernel console is logged
# apart. Each step says what it shows and checks it; the last line says
# whether every step showed it, and the exit status is non-zero if one
# did not.
. /lab/machine.env
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec >/dev/ttyS1 2>&1

nodes=/sys/devices/system/node
pnode=$nodes/node$PRIVATE_NID
tests=/lab/kselftest/private_nodes
dbg=/sys/kernel/debug/private_node_test
failed=0 steps=0

# The node's "Node N <field>: V kB" meminfo value, in MiB.
mb() { awk -v f="$1" '$3 == f":" { printf "%d", $4 / 1024 }' "$pnode/meminfo"; }
# check WHAT COMMAND...: run COMMAND, and report whether it showed WHAT.
check() {
	what=$1
	shift
	steps=$((steps + 1))
	if "$@"; then
		echo "   -> yes: $what"
	else
		echo "   -> NO: $what"
		failed=$((failed + 1))
	fi
}
# in_list FILE NID: is NID in the node list FILE holds ("0-2,4")?
in_list() {
	for r in $(tr , ' ' <"$nodes/$1"); do
		[ "$2" -ge "${r%-*}" ] && [ "$2" -le "${r#*-}" ] && return 0
	done
	return 1
}
not() { ! "$@"; }
is_private() { in_list has_private_memory "$PRIVATE_NID" && not in_list has_memory "$PRIVATE_NID"; }
same() { [ "$1" = "$2" ]; }

echo "== node $PRIVATE_NID: a $PRIVATE_SIZE_MB MiB DIMM at $PRIVATE_BASE that nothing onlined at boot"
# The driver also learns the control range (it adds it only when asked):
# the test programs the demo runs read the layout from its parameters.
if ! insmod "$tests/test_modules/private_node_test.ko" private_nid="$PRIVATE_NID" \
	private_base="$PRIVATE_BASE" private_size=$((PRIVATE_SIZE_MB << 20)) \
	control_nid="$CONTROL_NID" control_base="$CONTROL_BASE" \
	control_size=$((CONTROL_SIZE_MB << 20)) ||
	! echo add > "$dbg/private"; then
	echo "RESULT: FAILED: the demo could not create the private node"
	exit 1
fi
echo "its owner (private_node_test.ko) added it: add_private_memory_driver_managed()"
echo "\$ cat $nodes/has_private_memory $nodes/has_memory"
cat "$nodes/has_private_memory" "$nodes/has_memory"
echo "node $PRIVATE_NID MemTotal $(mb MemTotal) MiB, MemFree $(mb MemFree) MiB"
check "node $PRIVATE_NID is a private node, not ordinary memory" is_private

echo
echo "== the system's view: numactl --hardware"
numactl --hardware

echo
echo "== an ordinary task cannot bind to it"
echo "\$ numactl --membind=$PRIVATE_NID true"
numactl --membind="$PRIVATE_NID" true
rc=$?
echo "(exit status $rc)"
check "numactl --membind=$PRIVATE_NID is refused" not same "$rc" 0

echo
echo "== 256 MiB written to tmpfs: does node $PRIVATE_NID give any of it?"
before=$(mb MemFree)
dd if=/dev/zero of=/tmp/fill bs=1M count=256
after=$(mb MemFree)
rm -f /tmp/fill
echo "node $PRIVATE_NID MemFree before $before MiB, after $after MiB"
check "the page cache took nothing from node $PRIVATE_NID" same "$before" "$after"

echo
echo "== its owner hands its pages out through /dev/private_node_test"
echo "\$ $tests/mmap_test -t pages_on_private_node"
"$tests/mmap_test" -t pages_on_private_node
check "the owner's mapping is backed by node $PRIVATE_NID" same "$?" 0

echo
echo "== its owner opts in: NP_OPS_MIGRATION | NP_OPS_MEMPOLICY (np_ops=3)"
# The flags are read when the range is added.
echo remove > "$dbg/private" && echo 3 > /sys/module/private_node_test/parameters/np_ops &&
	echo add > "$dbg/private"
echo "\$ cat $nodes/has_memory"
cat "$nodes/has_memory"
check "node $PRIVATE_NID is listed for memory policies" in_list has_memory "$PRIVATE_NID"
echo "\$ numactl --membind=$PRIVATE_NID mempolicy_optin_test --pnt-hog 64M $PRIVATE_NID"
echo "(prints: pages on node $PRIVATE_NID, pages allocated)"
hog=$(numactl --membind="$PRIVATE_NID" "$tests/mempolicy_optin_test" --pnt-hog $((64 << 20)) "$PRIVATE_NID")
echo "$hog"
check "numactl --membind=$PRIVATE_NID runs a program there" same "$hog" "16384 16384"
echo "\$ mempolicy_optin_test --pnt-tldr $PRIVATE_NID"
"$tests/mempolicy_optin_test" --pnt-tldr "$PRIVATE_NID"
check "mbind() and fault onto it, malloc() never there, move_pages() onto it" same "$?" 0

echo
echo "== CRAM (patch 23): its owner hands the node to CRAM as a compressed tier"
# cram_test's fixture re-adds the node with cram=1: the driver registers it
# with CRAM and plays a compressed device (LZ4-measured fill, 1/4 capacity).
cram_case() {
	echo "\$ cram_test -t $1"
	"$tests/cram_test" -t "$1"
	check "$2" same "$?" 0
}
cram_case demoted_read_only_write_promotes \
	"cold pages demoted into CRAM are read with no fault; a write promotes just its page"
cram_case incompressible_flood_never_overfills \
	"random data never fills the device past its capacity; swap takes the rest"

echo
echo "== removing the private node"
echo remove > "$dbg/private"
echo "\$ cat $nodes/has_private_memory"
cat "$nodes/has_private_memory"
check "node $PRIVATE_NID is gone" not in_list has_private_memory "$PRIVATE_NID"

echo
if [ $failed -eq 0 ]; then
	echo "RESULT: ok: all $steps steps showed what they set out to show"
else
	echo "RESULT: FAILED: $failed of $steps steps did not show what they set out to show"
fi
[ $failed -eq 0 ]
