#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash # busybox ash: "local" is there
# The guest's test plan (busybox sh), staged as /lab/run.sh:
#   /lab/machine.env   the lab layout (PRIVATE_*, CONTROL_*)
#   /lab/kselftest/    the kselftest install of private_nodes: the tree's
#                      runner (run_kselftest.sh), the test programs and
#                      settings, and test_modules/ (the KUnit suites and
#                      the test driver)
# Writes one KTAP document to $KTAP_OUT (/dev/ttyS1; the kernel console
# stays on ttyS0): one subtest per KUnit module run, holding its suites,
# then the kselftest runner's results, each program's own results nested
# under the runner's line for it.

LAB=${LAB:-/lab}
KTAP_OUT=${KTAP_OUT:-/dev/ttyS1}
WORK=${WORK:-/tmp/lab-run}
PATH=${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin
export PATH
KUNIT_DIR=${KUNIT_DIR:-/sys/kernel/debug/kunit}
KSFT=$LAB/kselftest
MODULES=$KSFT/private_nodes/test_modules
# KSFT_ARGS=... narrows the kselftest run, e.g. "-t private_nodes:sysfs_test".
KSFT_ARGS=${KSFT_ARGS:--c private_nodes}

# shellcheck source=../machine.env
. "$LAB/machine.env" || exit 1
# The tests read the layout from the driver's parameters, or from these.
export PRIVATE_NID PRIVATE_SIZE_MB CONTROL_NID CONTROL_SIZE_MB
# cxl_compression_test: the driver's module (the lab kernel installs no
# modules), and the device model's serial line (qemu/lab-machine.sh).
export CXL_COMPRESSION_KO="$LAB/modules/cxl_compression.ko" MODEL_TTY=/dev/ttyS3
PRIVATE_PARAMS="private_nid=$PRIVATE_NID private_base=$PRIVATE_BASE private_size=$((PRIVATE_SIZE_MB * 1024 * 1024))"
CONTROL_PARAMS="control_nid=$CONTROL_NID control_base=$CONTROL_BASE control_size=$((CONTROL_SIZE_MB * 1024 * 1024))
foreign_base=$FOREIGN_BASE foreign_size=$((FOREIGN_SIZE_MB * 1024 * 1024))"

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

# A program's per-test log, written by the runner (-p): the runner's own
# messages, then the program's output with "# " before every line. Emit
# the program's KTAP one level below the runner's lines, as the subtest
# $2 (the runner's name for it), with its TAP version line replaced.
emit_program_log() {
	local log="$1" name="$2" line started=0
	out "        KTAP version 1"
	out "        # Subtest: $name"
	[ -r "$log" ] || { out "        # no log $log"; return; }
	while IFS= read -r line || [ -n "$line" ]; do
		if [ $started -eq 0 ]; then
			case $line in
			"# TAP version "*) started=1 ;;
			*) out "        $line" ;;
			esac
			continue
		fi
		out "        ${line#"# "}"
	done < "$log"
}

# Test $1: the kselftest runner over private_nodes (the tree's
# run_kselftest.sh, with the timeouts of the target's settings file),
# each program's results nested under the runner's result line for it.
run_kselftests() {
	local num="$1" line name rc
	out "    KTAP version 1"
	out "    # Subtest: kselftest private_nodes"
	if [ ! -x "$KSFT/run_kselftest.sh" ]; then
		out "    # $KSFT/run_kselftest.sh is missing"
		out "not ok $num kselftest private_nodes"
		return
	fi
	if [ "$driver" != loaded ]; then
		out "    # private_node_test.ko did not load"
		out "not ok $num kselftest private_nodes"
		return
	fi
	rm -rf "$WORK/ksft" "$WORK/ksft.rc"
	# shellcheck disable=SC2086 # the arguments are words
	{ "$KSFT/run_kselftest.sh" -p "$WORK/ksft" $KSFT_ARGS < /dev/null 2>&1
	  echo $? > "$WORK/ksft.rc"; } |
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		"TAP version "*) ;;
		"ok "*|"not ok "*)
			name=${line#*selftests: private_nodes: }
			name=${name%% *}
			emit_program_log "$WORK/ksft/$name" \
				"selftests: private_nodes: $name"
			out "    $line" ;;
		*) out "    $line" ;;
		esac
	done
	rc=$(cat "$WORK/ksft.rc" 2>/dev/null)
	if [ "$rc" = 0 ]; then
		out "ok $num kselftest private_nodes"
	else
		out "not ok $num kselftest private_nodes # runner exit ${rc:-unknown}"
	fi
}

ensure_mounts
mkdir -p "$WORK" || exit 1
stty -F "$KTAP_OUT" raw -echo 2>/dev/null
exec 3> "$KTAP_OUT" || exit 1

modules=
for m in "$MODULES"/*_kunit.ko; do
	[ -e "$m" ] && modules="$modules $m"
done
# KUnit modules run twice: with cpusets disabled (no cpuset but the root),
# then with a child cpuset, which turns cpusets_enabled() on for good. The
# second pass leaves out the slow tests (the hotplug race), which do not
# depend on cpusets: KUnit's filter drops them before they are counted.
KUNIT_PASSES="cpusets=0 cpusets=1"
KUNIT_FILTER=/sys/module/kunit/parameters/filter
enable_cpusets() {
	echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control &&
		mkdir -p /sys/fs/cgroup/lab-cpuset &&
		printf %s "speed>slow" > "$KUNIT_FILTER"
}

total=1
for pass in $KUNIT_PASSES; do
	for m in $modules; do total=$((total + 1)); done
done

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
: > "$KUNIT_FILTER" 2>/dev/null

# shellcheck disable=SC2086 # the parameters are words
if insmod "$MODULES/private_node_test.ko" $PRIVATE_PARAMS $CONTROL_PARAMS \
		> "$WORK/insmod.log" 2>&1; then
	driver=loaded
else
	driver=failed
	{ echo "insmod private_node_test.ko failed:"; cat "$WORK/insmod.log"; } | diag ""
fi
run_kselftests $((i + 1))
exec 3>&-
