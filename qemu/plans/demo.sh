#!/bin/sh
# Guest side of scripts/run-lab.sh: make the lab's DIMM a private node and
# show that it is isolated. Staged as /lab/run.sh.
. /lab/machine.env
nodes=/sys/devices/system/node
pnode=$nodes/node$PRIVATE_NID
mb() { awk -v f="$1" '$3 == f":" { printf "%d MiB", $4 / 1024 }' "$pnode/meminfo"; }

insmod /lab/modules/private_node_test.ko private_nid="$PRIVATE_NID" \
	private_base="$PRIVATE_BASE" private_size=$((PRIVATE_SIZE_MB << 20)) ||
	{ echo "DEMO: cannot load private_node_test.ko"; exit 1; }
echo add > /sys/kernel/debug/private_node_test/private ||
	{ echo "DEMO: could not create the private node"; exit 1; }

echo "DEMO: node $PRIVATE_NID is now a private node ($PRIVATE_SIZE_MB MiB at $PRIVATE_BASE)"
echo "DEMO: has_private_memory = $(cat $nodes/has_private_memory)"
echo "DEMO: has_memory         = $(cat $nodes/has_memory)   (the private node is not here)"
echo "DEMO: has_normal_memory  = $(cat $nodes/has_normal_memory)"
echo "DEMO: node $PRIVATE_NID MemTotal $(mb MemTotal), MemFree $(mb MemFree)"
echo
numactl --hardware
echo
echo "DEMO: an ordinary task cannot bind to it:"
if numactl --membind="$PRIVATE_NID" true 2>&1; then
	echo "DEMO: UNEXPECTED: numactl --membind=$PRIVATE_NID succeeded"
else
	echo "DEMO: numactl --membind=$PRIVATE_NID refused, as it should be"
fi
echo
echo "DEMO: 256 MiB written to tmpfs; node $PRIVATE_NID does not move:"
free_before=$(mb MemFree)
dd if=/dev/zero of=/tmp/fill bs=1M count=256 2>/dev/null
echo "DEMO: node $PRIVATE_NID MemFree before $free_before, after $(mb MemFree)"
rm -f /tmp/fill
echo
echo "DEMO: its owner hands pages out through /dev/private_node_test:"
/lab/selftests/mmap_test 2>&1 | grep -E '^(ok|not ok|#)' | head -20
echo
echo "DEMO: removing the private node"
echo remove > /sys/kernel/debug/private_node_test/private &&
	echo "DEMO: has_private_memory = '$(cat $nodes/has_private_memory)'"
