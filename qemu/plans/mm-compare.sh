#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest plan of scripts/compare-mm-selftests.sh (busybox sh), staged as
# /lab/run.sh: the tree's own mm selftests for mlock, madvise, KSM,
# khugepaged, migration, write protection and reclaim, run as
# tools/testing/selftests/mm/run_vmtests.sh runs them (categories mlock,
# madv_guard, madv_populate, process_madv, ksm, ksm_numa, the khugepaged
# part of thp, migration, rmap, mkdirty, soft_dirty, userfaultfd (the
# unit tests and uffd-wp-mremap), pagemap, cow, droppable,
# process_mrelease, compaction, gup_test and memory-failure;
# on-fault-limit needs sudo and is left out; migration needs three CPUs
# and skips on the lab's two). For each command the
# console gets
#   MMTEST: <command> | exit <status> | <its "# Totals:" line, or ->
# No private node is created.

LAB=${LAB:-/lab}
cd "$LAB/selftests" || exit 1
out=/tmp/mmtest.out

run() {
	timeout -s KILL 900 "$@" >"$out" 2>&1
	rc=$?
	totals=$(sed -n 's/^# Totals: //p' "$out" | tail -n 1)
	echo "MMTEST: $* | exit $rc | ${totals:--}"
	# The full output goes to the second serial port, for the record.
	{ echo "### $*"; cat "$out"; } >>/dev/ttyS1
}

echo "MMTEST: kernel $(uname -r)"
# Swap on zram: the khugepaged tests collapse swapped-out pages too.
echo 256M >/sys/block/zram0/disksize &&
	mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 ||
	echo "MMTEST: no swap"
run ./mlock-random-test
run ./mlock2-tests
run ./guard-regions
run ./madv_populate
run ./process_madv
run ./ksm_tests -H -s 100
run ./ksm_tests -P -s 100
run ./ksm_tests -M -p 10
run ./ksm_tests -U
run ./ksm_tests -Z -p 10 -z 0
run ./ksm_tests -Z -p 10 -z 1
run ./ksm_tests -N -m 1
run ./ksm_tests -N -m 0
run ./ksm_functional_tests
# run_vmtests.sh starts the THP tests from clean, compacted memory.
echo 3 >/proc/sys/vm/drop_caches
echo 1 >/proc/sys/vm/compact_memory
run ./khugepaged
run ./khugepaged -s 2
run ./khugepaged all:shmem
run ./khugepaged -s 4 all:shmem
run ./khugepaged -c 4 mthp_khugepaged:anon
# Migration and memory policies (patches 12-14).
run ./migration
run ./rmap
# Write protection (patch 15).
run ./mkdirty
run ./soft-dirty
run ./uffd-unit-tests
run ./uffd-wp-mremap
run ./pagemap_ioctl
# Reclaim (patch 16): swap-out and back in, droppable memory, reaping.
run ./cow
run ./droppable
run ./mrelease_test
# Compaction (patch 19), from clean memory as run_vmtests.sh runs it.
echo 3 >/proc/sys/vm/drop_caches
run ./compaction_test
# get_user_pages and long-term pins (patch 20): the gup_test category.
run ./gup_test -u -n 1
run ./gup_test -u -n -1
run ./gup_test -a -n 1
run ./gup_test -a -n -1
run ./gup_test -ct -F 0x1 0 19 0x1000
run ./gup_longterm
# Memory failure (patch 21), last: it leaves poisoned pages behind.
run ./memory-failure
echo "MMTEST: done"
