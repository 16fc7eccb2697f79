#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash # busybox ash: "local" is there
# The guest's test plan (busybox sh), staged as /lab/run.sh:
#   /lab/machine.env   the lab layout (PRIVATE_*, CONTROL_*)
#   /lab/modules/      *_kunit.ko and private_node_test.ko
#   /lab/selftests/    the kselftest binaries
# Writes one KTAP document to $KTAP_OUT (/dev/ttyS1; the kernel console
# stays on ttyS0): one subtest per KUnit module, holding its suites, then
# one per kselftest binary, holding its test cases.

LAB=${LAB:-/lab}
KTAP_OUT=${KTAP_OUT:-/dev/ttyS1}
WORK=${WORK:-/tmp/lab-run}
PATH=${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin
export PATH
KUNIT_DIR=${KUNIT_DIR:-/sys/kernel/debug/kunit}

# kselftest binaries in run order, with a time limit each (seconds):
# every test case also has its own limit inside the harness.
ALL_SELFTESTS="sysfs_test:300 mmap_test:300 mempolicy_test:600 hotplug_test:1200
services_test:1800 isolation_test:3600"
SELFTESTS=${SELFTESTS:-$ALL_SELFTESTS}

# shellcheck source=../../../../qemu/machine.env
. "$LAB/machine.env" || exit 1
# The tests read the layout from the driver's parameters, or from these.
export PRIVATE_NID PRIVATE_SIZE_MB CONTROL_NID CONTROL_SIZE_MB
PRIVATE_PARAMS="private_nid=$PRIVATE_NID private_base=$PRIVATE_BASE private_size=$((PRIVATE_SIZE_MB * 1024 * 1024))"
CONTROL_PARAMS="control_nid=$CONTROL_NID control_base=$CONTROL_BASE control_size=$((CONTROL_SIZE_MB * 1024 * 1024))"

# What the plan needs, in case init did not mount it. LAB_NO_MOUNTS=1
# leaves the system alone (a dry run outside the guest).
ensure_mounts() {
	[ "${LAB_NO_MOUNTS:-0}" = 1 ] && return
	[ -e /proc/self ] || mount -t proc proc /proc
	[ -d /sys/devices ] || mount -t sysfs sysfs /sys
	[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
	grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug
}

out() {
	printf '%s\n' "$*" >&3
}

# Print stdin as KTAP diagnostics, indented by $1.
diag() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s# %s\n' "$1" "$line" >&3
	done
}

# One suite of a KUnit module: its debugfs results are a KTAP document
# ("KTAP version 1", "1..1", the suite as subtest 1, "ok 1 <suite>"). Drop
# the document header and renumber the suite's result line as test $1 of
# the module, one level down.
emit_suite() {
	local num="$1" suite="$2" n=0 prev="" have=0 line
	if ! cat "$KUNIT_DIR/$suite/results" > "$WORK/results" 2>/dev/null; then
		out "    # $suite: no results"
		out "    not ok $num $suite"
		return 1
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		if { [ $n -eq 1 ] && [ "$line" = "KTAP version 1" ]; } ||
		   { [ $n -eq 2 ] && [ "$line" = "1..1" ]; }; then
			continue
		fi
		[ $have -eq 1 ] && out "    $prev"
		prev=$line have=1
	done < "$WORK/results"
	case $prev in
	"ok 1 "*)
		out "    ok $num ${prev#ok 1 }"
		return 0 ;;
	"not ok 1 "*)
		out "    not ok $num ${prev#not ok 1 }"
		return 1 ;;
	esac
	[ $have -eq 1 ] && out "    $prev"
	out "    # $suite: no result line"
	out "    not ok $num $suite"
	return 1
}

# The suites KUnit lists in debugfs, on one line.
kunit_suites() {
	local d
	for d in "$KUNIT_DIR"/*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		printf '%s ' "${d##*/}"
	done
}

# Test $1: load the KUnit module $2 with parameters $3 (its suites run at
# load) and report the suites it registered in debugfs.
run_kunit_module() {
	local num="$1" path="$2" params="$3" name mod before loaded suites s count j status
	mod=$(basename "$path" .ko)
	name="$mod $params"
	before=" $(kunit_suites) "
	# shellcheck disable=SC2086 # the parameters are words
	if insmod "$path" $PRIVATE_PARAMS $params > "$WORK/insmod.log" 2>&1; then
		loaded=1
	else
		loaded=0
	fi
	suites=
	for s in $(kunit_suites); do
		case $before in *" $s "*) continue ;; esac
		suites="$suites $s"
	done
	count=0
	for s in $suites; do count=$((count + 1)); done

	out "    KTAP version 1"
	out "    # Subtest: $name"
	[ $loaded -eq 1 ] || { echo "insmod failed:"; cat "$WORK/insmod.log"; } | diag "    "
	out "    1..$count"
	status=ok
	j=0
	for s in $suites; do
		j=$((j + 1))
		emit_suite $j "$s" || status="not ok"
	done
	[ $loaded -eq 1 ] && [ $count -gt 0 ] || status="not ok"
	out "$status $num $name"
	if [ $loaded -eq 1 ] && ! rmmod "$(echo "$mod" | tr - _)" > "$WORK/rmmod.log" 2>&1; then
		{ echo "rmmod $name failed:"; cat "$WORK/rmmod.log"; } | diag ""
	fi
}

# Run "$2..." for at most $1 seconds (SIGTERM, then SIGKILL 10 s later).
limited() {
	local limit="$1"
	shift
	if command -v timeout > /dev/null 2>&1; then
		timeout -k 10 "$limit" "$@"
	else
		"$@"
	fi
}

# Test $1: the kselftest binary $2, limited to $3 seconds. Its TAP output
# becomes the subtest (its own version line replaced by ours).
run_selftest() {
	local num="$1" name="$2" limit="$3" bin rc
	bin=$LAB/selftests/$name
	if [ ! -x "$bin" ]; then
		out "# $bin is missing"
		out "not ok $num $name"
		return
	fi
	if [ "$driver" != loaded ]; then
		out "# private_node_test.ko did not load"
		out "not ok $num $name"
		return
	fi
	out "    KTAP version 1"
	out "    # Subtest: $name"
	rm -f "$WORK/rc"
	{
		limited "$limit" "$bin" < /dev/null 2>&1
		echo $? > "$WORK/rc"
	} | while IFS= read -r line || [ -n "$line" ]; do
		case $line in "TAP version "*) continue ;; esac
		printf '    %s\n' "$line" >&3
	done
	rc=$(cat "$WORK/rc" 2>/dev/null)
	case $rc in
	0) out "ok $num $name" ;;
	4) out "ok $num $name # SKIP" ;;
	124|137|143)
		out "# $name: killed after $limit s (status $rc)"
		out "not ok $num $name" ;;
	*)
		out "# $name: exit status ${rc:-unknown}"
		out "not ok $num $name" ;;
	esac
}

ensure_mounts
mkdir -p "$WORK" || exit 1
stty -F "$KTAP_OUT" raw -echo 2>/dev/null
exec 3> "$KTAP_OUT" || exit 1

modules=
for m in "$LAB"/modules/*_kunit.ko; do
	[ -e "$m" ] && modules="$modules $m"
done
# KUnit modules run twice: with cpusets disabled (no cpuset but the root),
# then with a child cpuset, which turns cpusets_enabled() on for good.
KUNIT_PASSES="cpusets=0 cpusets=1"
enable_cpusets() {
	echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control &&
		mkdir -p /sys/fs/cgroup/lab-cpuset
}

total=0
for pass in $KUNIT_PASSES; do
	for m in $modules; do total=$((total + 1)); done
done
for t in $SELFTESTS; do total=$((total + 1)); done

out "KTAP version 1"
out "1..$total"
i=0
for pass in $KUNIT_PASSES; do
	if [ "$pass" = cpusets=1 ] && ! enable_cpusets; then
		echo "could not create a child cpuset" | diag ""
	fi
	for m in $modules; do
		i=$((i + 1))
		run_kunit_module $i "$m" "$pass"
	done
done

# shellcheck disable=SC2086 # the parameters are words
if insmod "$LAB/modules/private_node_test.ko" $PRIVATE_PARAMS $CONTROL_PARAMS \
		> "$WORK/insmod.log" 2>&1; then
	driver=loaded
else
	driver=failed
	{ echo "insmod private_node_test.ko failed:"; cat "$WORK/insmod.log"; } | diag ""
fi
for t in $SELFTESTS; do
	i=$((i + 1))
	run_selftest $i "${t%%:*}" "${t#*:}"
done
exec 3>&-
