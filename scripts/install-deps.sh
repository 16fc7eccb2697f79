#!/usr/bin/env bash
# Install what the lab needs from Debian's packages (QEMU 10 from
# bookworm-backports: bookworm's 7.2 lacks cxl-type3 volatile-memdev), and
# fetch the guest's cxl-cli (scripts/fetch-cxl-cli.sh).
# Does nothing when everything is already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(build-essential flex bison bc libelf-dev libssl-dev dwarves cpio xz-utils
      ccache quilt busybox-static numactl libnuma-dev libcap-dev python3 git rsync
      ndctl liblz4-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null &&
		qemu-system-x86_64 -device help 2>/dev/null | grep -q cxl-type3 &&
		qemu-system-x86_64 -device cxl-type3,help 2>/dev/null | grep -q volatile-memdev
}
need_qemu=0
qemu_ok || need_qemu=1
"$(dirname "$0")/fetch-cxl-cli.sh"
[ ${#missing[@]} -eq 0 ] && [ $need_qemu -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root, or install them)"
lab_apt update >/dev/null
log=$LAB_CACHE/apt/install.log
install() {
	note "installing: $*"
	DEBIAN_FRONTEND=noninteractive lab_apt install -y --no-install-recommends \
		"$@" >>"$log" 2>&1 ||
		{ tail -20 "$log" >&2; die "package install failed (log: $log)"; }
}
[ ${#missing[@]} -eq 0 ] || install "${missing[@]}"
[ $need_qemu -eq 0 ] || install -t bookworm-backports qemu-system-x86
qemu_ok || die "QEMU with cxl-type3 volatile-memdev support is not available"
