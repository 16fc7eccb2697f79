#!/usr/bin/env bash
# Build the lab guest's initramfs (gzip'ed newc cpio): static busybox,
# numactl and migratepages and GNU timeout (the kselftest runner uses its
# --foreground) with their libraries, cxl-cli (trixie's, on its own loader
# and libraries in /opt/cxl-cli, from scripts/fetch-cxl-cli.sh),
# qemu/guest-init.sh as /init, qemu/machine.env as /lab/machine.env, and
# each STAGING_DIR's contents under /lab/ (kselftest/, run.sh, ...).
# Usage: scripts/make-initramfs.sh OUT.cpio.gz [STAGING_DIR...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 OUT.cpio.gz [STAGING_DIR...]"
out=$1
shift
for d in "$@"; do
	[ -d "$d" ] || die "staging directory $d does not exist"
done

hint="(run scripts/install-deps.sh)"
busybox=$(command -v busybox) || die "busybox missing $hint"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static: install busybox-static $hint"
numactl=$(command -v numactl) || die "numactl missing $hint"
migratepages=$(command -v migratepages) || die "migratepages missing (package numactl) $hint"
cxl_root=$LAB_CACHE/cxl-cli/root
cxl_loader=$cxl_root/usr/lib64/ld-linux-x86-64.so.2
if [ ! -x "$cxl_root/usr/bin/cxl" ] || [ ! -x "$cxl_loader" ]; then
	die "cxl-cli missing (run scripts/fetch-cxl-cli.sh)"
fi
gnu_timeout=/usr/bin/timeout
"$gnu_timeout" --version 2>/dev/null | grep -q coreutils || die "GNU timeout missing (package coreutils)"
command -v cpio >/dev/null || die "cpio missing $hint"

root=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

# Copy the shared libraries (and the dynamic loader) an executable needs,
# each at the path ldd resolves it to.
copy_libs() {
	local lib
	# ldd fails on static executables: nothing to copy then.
	ldd "$1" >/dev/null 2>&1 || return 0
	! ldd "$1" | grep 'not found' >&2 || die "$1: missing libraries (above)"
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,lab}
chmod 1777 "$root/tmp"
# The kernel opens /dev/console before /init runs (needs root to create).
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null ||
	note "cannot mknod /dev/console (not root): /init reopens it on devtmpfs"

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

for exe in "$numactl" "$migratepages" "$gnu_timeout"; do
	rm -f "$root/usr/bin/${exe##*/}"	# busybox's applet, if any
	cp -L "$exe" "$root/usr/bin/"
	copy_libs "$exe"
done

# cxl-cli needs a newer glibc than the rest: its own loader and libraries.
mkdir -p "$root/opt/cxl-cli/lib"
cp "$cxl_root/usr/bin/cxl" "$root/opt/cxl-cli/"
cp -L "$cxl_loader" "$root/opt/cxl-cli/lib/"
for lib in $("$cxl_loader" --library-path \
		"$cxl_root/usr/lib/x86_64-linux-gnu:$cxl_root/lib/x86_64-linux-gnu" \
		--list "$cxl_root/usr/bin/cxl" | grep -o "$cxl_root/[^ ]*"); do
	cp -L "$lib" "$root/opt/cxl-cli/lib/"
done
cat > "$root/usr/bin/cxl" <<'WRAPPER'
#!/bin/sh
exec /opt/cxl-cli/lib/ld-linux-x86-64.so.2 --library-path /opt/cxl-cli/lib \
	/opt/cxl-cli/cxl "$@"
WRAPPER
chmod 755 "$root/usr/bin/cxl"

install -m 755 "$LAB_ROOT/qemu/guest-init.sh" "$root/init"
install -m 644 "$LAB_ROOT/qemu/machine.env" "$root/lab/machine.env"

for d in "$@"; do
	cp -a "$d/." "$root/lab/"
done
# Libraries for the staged test programs.
while IFS= read -r -d '' f; do
	is_elf "$f" && copy_libs "$f"
done < <(find "$root/lab" -type f -perm -u+x -print0)

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -n -6 >"$out.tmp"
mv "$out.tmp" "$out"
note "initramfs: $out ($(du -h "$out" | cut -f1))"
