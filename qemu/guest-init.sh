#!/bin/sh
# The lab guest's /init (busybox sh). Mounts the usual filesystems, then
# runs the test plan /lab/run.sh (lab.run=1) or a shell (lab.shell=1), and
# powers off. init must never exit (that panics), so no `set -e` here.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root

# /dev first, so the console works even if the kernel opened none.
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo "LAB: userspace up"

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# The second serial port carries KTAP: no \r\n translation.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
stty -F /dev/ttyS2 raw -echo 2>/dev/null

nodes=/sys/devices/system/node
echo "LAB: kernel $(uname -r)"
echo "LAB: nodes possible $(cat $nodes/possible) online $(cat $nodes/online)" \
	"has_memory $(cat $nodes/has_memory) has_cpu $(cat $nodes/has_cpu)"

cmdline=" $(cat /proc/cmdline) "
# lab.run=1 runs the plan; lab.shell=1 then gives a shell (both may be set).
case $cmdline in
*" lab.run=1 "*)
	if [ -f /lab/run.sh ]; then
		cd /lab || true
		# Its own #! line if executable, else busybox sh.
		if [ -x /lab/run.sh ]; then /lab/run.sh; else sh /lab/run.sh; fi </dev/null
		echo "LAB: run.sh exit $?"
		cd / || true
	else
		echo "LAB: lab.run=1 but no /lab/run.sh"
	fi
	;;
esac
case $cmdline in
*" lab.shell=1 "*)
	setsid cttyhack sh
	;;
esac

# The whole kernel log, for the host to check (third serial port).
dmesg >/dev/ttyS2 2>/dev/null
echo "LAB: powering off"
sync
poweroff -f
# Not reached unless the power-off failed.
sleep 5
echo "LAB: poweroff failed"
while :; do sleep 1000; done
