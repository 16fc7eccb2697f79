#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark's guest plan (busybox sh), staged as /lab/run.sh by
# scripts/bench.sh: the order-0 alloc/free loop of
# /lab/modules/page_alloc_bench.ko (it runs when loaded) and the page-fault
# loop of /lab/selftests/fault_bench. Every figure goes to the console as a
# "BENCH: " line for the host. No private node is created.

LAB=${LAB:-/lab}
out=/tmp/bench.out

echo "BENCH: kernel $(uname -r)"
# Pinned like fault_bench; the module runs in insmod's context.
taskset 1 insmod "$LAB/modules/page_alloc_bench.ko" || exit 1
rmmod page_alloc_bench || exit 1
dmesg | sed -n 's/^.*\(page_alloc_bench: \)/BENCH: \1/p' >"$out"
grep -q median_ns_per_pair "$out" || { echo "BENCH: no module figures"; exit 1; }
cat "$out"

"$LAB/selftests/fault_bench" >"$out" || exit 1
sed 's/^/BENCH: /' "$out"
