#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The CRAM benchmark's guest plan (busybox sh), staged as /lab/run.sh by
# scripts/bench-cram.sh: the same cold 256 MiB working set pushed out of
# DRAM node 0 three ways, by /lab/bench/cram_bench:
#   cram   demoted into CRAM (the test driver's emulated compressed device)
#   lower  demoted into an ordinary lower tier (the control range, given a
#          memory type as slow as the CRAM node's)
#   zswap  reclaimed into zswap (lz4, zsmalloc; zram behind it), demotion
#          off
#   cramhw as cram, but the emulated device does not measure each page
#          with LZ4 on the CPU (a real device measures in hardware): the
#          cost of CRAM itself
# Every figure goes to the console as a "BENCH: " line for the host.

LAB=${LAB:-/lab}
. "$LAB/machine.env" || exit 1
mods=$LAB/kselftest/private_nodes/test_modules
dbg=/sys/kernel/debug/private_node_test
par=/sys/module/private_node_test/parameters
bench="taskset 1 $LAB/bench/cram_bench"
mib=256
adist=$((5 * 576))	# below DRAM (576), as demotion_test sets it

fail() { echo "BENCH: failed: $*"; exit 1; }

echo "BENCH: kernel $(uname -r)"
insmod "$mods/private_node_test.ko" private_nid="$PRIVATE_NID" \
	private_base="$PRIVATE_BASE" private_size=$((PRIVATE_SIZE_MB << 20)) \
	control_nid="$CONTROL_NID" control_base="$CONTROL_BASE" \
	control_size=$((CONTROL_SIZE_MB << 20)) || fail "insmod"
echo 1 > /sys/kernel/mm/numa/demotion_enabled || fail "demotion_enabled"
# nodeN/reclaim shrinks a node only past vm.min_slab_ratio of reclaimable
# slab or vm.min_unmapped_ratio of clean page cache (see demotion_test).
echo 0 > /proc/sys/vm/min_slab_ratio || fail "min_slab_ratio"
echo 1G > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
	swapon /dev/zram0 || fail "zram swap"

echo "$adist" > "$par/adistance" && echo 1 > "$par/cram" &&
	echo add > "$dbg/private" || fail "CRAM node"
$bench cram 0 "$PRIVATE_NID" $mib | sed 's/^/BENCH: /'
sed 's/^/BENCH: cram device /' "$dbg/cram"
sed 's/^/BENCH: cram stats /' "/sys/kernel/debug/cram/node$PRIVATE_NID/stats"
echo remove > "$dbg/private" || fail "CRAM node removal"
echo 0 > "$par/cram_measure" && echo add > "$dbg/private" || fail "CRAM node"
$bench cramhw 0 "$PRIVATE_NID" $mib | sed 's/^/BENCH: /'
echo remove > "$dbg/private" || fail "CRAM node removal"

echo "$adist" > "$par/control_adistance" && echo add > "$dbg/control" ||
	fail "lower tier"
$bench lower 0 "$CONTROL_NID" $mib | sed 's/^/BENCH: /'
# It may hold kernel objects now; nothing else runs after it anyway.
echo remove > "$dbg/control" 2>/dev/null

echo 0 > /sys/kernel/mm/numa/demotion_enabled
z=/sys/module/zswap/parameters
echo lz4 > $z/compressor && echo Y > $z/enabled || fail "zswap"
echo "BENCH: zswap $(cat $z/compressor) $(cat $z/zpool 2>/dev/null || echo zsmalloc)"
$bench zswap 0 -1 $mib | sed 's/^/BENCH: /'
for f in pool_total_size stored_pages written_back_pages; do
	echo "BENCH: zswap stats $f $(cat /sys/kernel/debug/zswap/$f 2>/dev/null)"
done
echo "BENCH: done"
