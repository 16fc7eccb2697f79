#!/usr/bin/env bash
# Compare the machine code of the page allocator's fast-path functions in
# vanilla 7.3.4 and in the series, as built by scripts/bench.sh (no debug
# options): the instruction count of each function, and the difference of
# their disassembly with addresses, encodings and jump offsets taken out.
# Usage: scripts/fastpath-objdump.sh [FUNCTION...]
set -euo pipefail
unset KERNEL_SRC
. "$(dirname "$0")/lib.sh"

funcs=("$@")
[ ${#funcs[@]} -gt 0 ] || funcs=(__alloc_frozen_pages_noprof get_page_from_freelist
	__free_frozen_pages free_unref_folios __folio_put alloc_pages_bulk_noprof)
declare -A vmlinux=([vanilla]=$LAB_CACHE/bench-vanilla/vmlinux
		    [series]=$LAB_CACHE/bench-series/vmlinux)
for k in vanilla series; do
	[ -f "${vmlinux[$k]}" ] || die "no ${vmlinux[$k]} (run scripts/bench.sh or scripts/build-compare-kernels.sh)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# listing KERNEL FUNC: one instruction a line, "mnemonic operands", with
# addresses and local jump targets replaced by offsets within the function.
listing() {
	objdump -d --no-show-raw-insn --disassemble="$2" "${vmlinux[$1]}" |
		awk -v f="$2" '
		$0 ~ "^[0-9a-f]+ <" f ">:$" { on = 1; next }
		on && /^[0-9a-f]+ </ { on = 0 }
		on && /^ *[0-9a-f]+:\t/ {
			sub(/^ *[0-9a-f]+:\t/, "")
			gsub(/[0-9a-f]+ <[^>+]*\+0x[0-9a-f]+>/, "<+off>")
			gsub(/0xffffffff[0-9a-f]+/, "ADDR")
			print
		}'
}

total_diff=0
for f in "${funcs[@]}"; do
	listing vanilla "$f" >"$tmp/v"
	listing series "$f" >"$tmp/s"
	nv=$(grep -c . "$tmp/v" || true) ns=$(grep -c . "$tmp/s" || true)
	if [ "$nv" -eq 0 ] && [ "$ns" -eq 0 ]; then
		echo "$f: not in either kernel (inlined?)"
		continue
	fi
	printf '%-28s vanilla %4d  series %4d  (%+d instructions)\n' "$f" "$nv" "$ns" $((ns - nv))
	if ! diff -q "$tmp/v" "$tmp/s" >/dev/null; then
		total_diff=1
		diff -U2 --label "vanilla $f" --label "series $f" "$tmp/v" "$tmp/s" | sed 's/^/    /' || true
	fi
done
[ $total_diff -eq 1 ] || echo "the listings are identical"
