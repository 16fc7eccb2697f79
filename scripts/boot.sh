#!/usr/bin/env bash
# Boot the lab machine (qemu/lab-machine.sh) on a kernel and an initramfs.
# Usage: scripts/boot.sh [-k BZIMAGE] [-i INITRD] [-a "KERNEL ARGS"]
#                        [-l LOGDIR] [-t TIMEOUT_S] [-C] [-I]
# Batch (default): the guest runs /lab/run.sh (lab.run=1) and powers off;
#   console -> LOGDIR/console.log, second serial port -> LOGDIR/ktap.log,
#   the guest's dmesg at the end -> LOGDIR/dmesg.log.
#   Exits 124 on timeout (default 900 s), non-zero if QEMU fails, if the
#   guest never reaches userspace, if run.sh fails or the kernel reports a
#   problem on the console (scripts/check-console.sh; -C leaves that
#   check to the caller).
#   With a compressed CXL device (CXL_PHYSICAL_MB in qemu/machine.env), the
#   device model runs beside QEMU, logging to LOGDIR/cxl-model.log; if it
#   dies before QEMU does, or fails, so does the boot.
# -I: interactive shell on this terminal (lab.shell=1; Ctrl-A X quits),
#   console also logged; no timeout unless -t is given.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$LAB_ROOT/qemu/lab-machine.sh"

kernel=$LAB_BUILD/arch/x86/boot/bzImage
initrd=$LAB_OUT/initramfs.cpio.gz
extra="" logdir=$LAB_OUT/boot timeout_s="" interactive=0 check_console=1
while getopts "k:i:a:l:t:CI" o; do
	case $o in
	k) kernel=$OPTARG ;; i) initrd=$OPTARG ;; a) extra=$OPTARG ;;
	l) logdir=$OPTARG ;; t) timeout_s=$OPTARG ;; C) check_console=0 ;;
	I) interactive=1 ;;
	*) die "usage: $0 [-k BZIMAGE] [-i INITRD] [-a ARGS] [-l LOGDIR] [-t TIMEOUT_S] [-C] [-I]" ;;
	esac
done
[ -n "$timeout_s" ] || { [ $interactive -eq 1 ] && timeout_s=0 || timeout_s=900; }
[[ $timeout_s =~ ^[0-9]+$ ]] || die "timeout must be whole seconds: $timeout_s"
[ -f "$kernel" ] || die "no kernel image $kernel (build one with scripts/build-kernel.sh, or pass -k)"
[ -f "$initrd" ] || die "no initramfs $initrd (build one with scripts/make-initramfs.sh, or pass -i)"
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 missing (run scripts/install-deps.sh)"

mkdir -p "$logdir"
console=$logdir/console.log ktap=$logdir/ktap.log qerr=$logdir/qemu.stderr
dmesg_log=$logdir/dmesg.log
rm -f "$console" "$ktap" "$qerr" "$dmesg_log" "$logdir/qemu.cmd"
work=$(mktemp -d "${TMPDIR:-/tmp}/lab-boot.XXXXXX")
watcher="" offwatch="" model_pid=""
cleanup() {
	[ -z "$model_pid" ] || kill "$model_pid" 2>/dev/null || true
	[ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
	[ -z "$offwatch" ] || kill "$offwatch" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

lab_qemu_args machine "$work"
model_log=$logdir/cxl-model.log
model=()
lab_model_args model "$work" "$model_log"
rm -f "$model_log"
# Warnings and worse on the console (a race test rebuilds the zonelists
# thousands of times, each with pr_info() lines); everything in dmesg.log.
cmdline="console=ttyS0 panic=-1 loglevel=5 log_buf_len=8M"
if [ $interactive -eq 1 ]; then
	cmdline+=" lab.shell=1"
	serial=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$console"
		-serial chardev:con -mon chardev=con -serial "file:$ktap"
		-serial "file:$dmesg_log")
else
	cmdline+=" lab.run=1"
	serial=(-monitor none -serial "file:$console" -serial "file:$ktap"
		-serial "file:$dmesg_log")
fi
qemu=(qemu-system-x86_64 "${machine[@]}" "${serial[@]}"
      -kernel "$kernel" -initrd "$initrd" -append "$cmdline${extra:+ $extra}")

printf '%q ' "${qemu[@]}" >"$logdir/qemu.cmd"
echo >>"$logdir/qemu.cmd"

# Time from launch to the guest's first userspace line.
start=$(date +%s.%N)
(
	until grep -qs 'LAB: userspace up' "$console"; do sleep 0.1; done
	echo "$(date +%s.%N) $start" | awk '{printf "%.1f\n", $1 - $2}' >"$work/up"
) &
watcher=$!
# A guest that finished but hangs in power-off (seen about once in 60
# boots under TCG) is stopped after a grace period; its results stand.
(
	until grep -qs 'LAB: powering off' "$console"; do sleep 1; done
	sleep 60
	touch "$work/poweroff-hang"
	pkill -KILL -f -- "qemu-system-x86_64 .*$work/" || true
) &
offwatch=$!

if [ ${#model[@]} -gt 0 ]; then
	make -s -C "$LAB_ROOT/qemu/cxl-compress-model" O="$LAB_OUT/model" >&2 ||
		die "the CXL device model did not build (liblz4-dev: scripts/install-deps.sh)"
	# It waits for QEMU's backing file and socket.
	"$LAB_OUT/model/cxl-compress-model" "${model[@]}" </dev/null &
	model_pid=$!
fi

limit="timeout ${timeout_s} s"
[ "$timeout_s" != 0 ] || limit="no timeout"
note "booting $kernel (log: $console, $limit)"
rc=0
if [ $interactive -eq 1 ]; then
	timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" || rc=$?
else
	timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>"$qerr" || rc=$?
fi
sleep 0.2	# let the watcher see the last of the log
kill "$watcher" "$offwatch" 2>/dev/null || true
wait "$watcher" "$offwatch" 2>/dev/null || true
watcher="" offwatch=""
if [ -e "$work/poweroff-hang" ]; then
	echo "warning: the guest hung in power-off after its run; QEMU stopped" >&2
	rc=0
fi

model_status=""
if [ -n "$model_pid" ]; then
	if kill -0 "$model_pid" 2>/dev/null; then
		kill -TERM "$model_pid"
		wait "$model_pid" || model_status="failed (exit $?)"
	else
		# It ends by itself once QEMU closes its sockets (exit 0), or
		# a test asked it to die (cxl_compression_test); nothing else.
		model_rc=0
		wait "$model_pid" || model_rc=$?
		[ $model_rc -eq 0 ] ||
			tail -n 1 "$model_log" 2>/dev/null | grep -q "killed on request" ||
			model_status="died during the run (exit $model_rc)"
	fi
	model_pid=""
	tail -n 1 "$model_log" 2>/dev/null || true
fi

[ ! -s "$work/up" ] || echo "boot to userspace: $(cat "$work/up") s"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "error: the guest did not power off within ${timeout_s} s;" \
		"console log kept: $console" >&2
	tail -n 5 "$console" >&2 2>/dev/null || true
	"$LAB_ROOT/scripts/check-console.sh" "$console" || true
	exit 124
fi
if [ $rc -ne 0 ]; then
	[ ! -s "$qerr" ] || cat "$qerr" >&2
	die "qemu failed (exit $rc); its command line: $logdir/qemu.cmd"
fi
[ ! -s "$qerr" ] || cat "$qerr" >&2
[ -z "$model_status" ] ||
	die "the CXL device model $model_status (its log: $model_log)"
if [ $check_console -eq 1 ]; then
	"$LAB_ROOT/scripts/check-console.sh" "$console" ||
		die "the kernel reported problems (console log: $console)"
	# The guest's own dmesg, written at the end: catches reports the
	# console may have dropped.
	[ ! -s "$dmesg_log" ] || "$LAB_ROOT/scripts/check-console.sh" "$dmesg_log" ||
		die "the kernel reported problems (guest dmesg: $dmesg_log)"
fi
[ -s "$work/up" ] || die "the guest never reached userspace (console log: $console)"
if [ $interactive -eq 0 ]; then
	status=$(tr -d '\r' <"$console" | sed -n 's/^LAB: run.sh exit //p' | tail -n1)
	[ -n "$status" ] || die "run.sh did not complete (console log: $console)"
	[ "$status" = 0 ] || die "run.sh failed with exit $status (console log: $console)"
fi
note "guest powered off cleanly (logs: $logdir)"
