#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark's guest plan (busybox sh), staged as /lab/run.sh by
# scripts/bench.sh: the order-0 alloc/free loop of
# /lab/modules/page_alloc_bench.ko (it runs when loaded) and the page-fault
# loop of /lab/bench/fault_bench. Every figure goes to the console as a
# "BENCH: " line for the host. With lab.private=1 on the kernel command
# line, the test driver first makes node $PRIVATE_NID a private node, so
# that ordinary allocations run with a private node online.

LAB=${LAB:-/lab}
out=/tmp/bench.out
. "$LAB/machine.env" || exit 1

echo "BENCH: kernel $(uname -r)"
case " $(cat /proc/cmdline) " in
*" lab.private=1 "*)
	insmod "$LAB/modules/private_node_test.ko" private_nid="$PRIVATE_NID" \
		private_base="$PRIVATE_BASE" private_size=$((PRIVATE_SIZE_MB << 20)) &&
		echo add > /sys/kernel/debug/private_node_test/private ||
		{ echo "BENCH: could not create the private node"; exit 1; }
	echo "BENCH: private node $PRIVATE_NID online:" \
		"$(cat /sys/devices/system/node/has_private_memory)"
	;;
esac
# Pinned like fault_bench; the module runs in insmod's context.
taskset 1 insmod "$LAB/modules/page_alloc_bench.ko" || exit 1
rmmod page_alloc_bench || exit 1
dmesg | sed -n 's/^.*\(page_alloc_bench: \)/BENCH: \1/p' >"$out"
grep -q median_ns_per_pair "$out" || { echo "BENCH: no module figures"; exit 1; }
cat "$out"

"$LAB/bench/fault_bench" >"$out" || exit 1
sed 's/^/BENCH: /' "$out"
