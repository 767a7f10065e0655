#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Extract the few kernel-source pieces the build and tests use (kselftest
# harness, checkpatch, ynl tools and netlink spec schemas) from Debian's
# linux-source-6.1 / linux-source-6.12 tarballs into build/.  Nothing from the
# kernel tree is ever committed to this repository.
#
# Usage: scripts/ksrc.sh [6.1|6.12]...   (default: both); idempotent, and
# safe to run several times at once.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${KSRC_OUT:-$top/build}
[ $# -gt 0 ] || set -- 6.1 6.12
# One extraction at a time (make -j, or two makes in one tree): a second
# caller waits, then finds .done and has nothing left to do.
if [ -z "${KSRC_LOCKED:-}" ] && command -v flock >/dev/null; then
	mkdir -p "$out"
	KSRC_LOCKED=1 exec flock "$out/.ksrc.lock" "$0" "$@"
fi
for v in "$@"; do
	dst=$out/linux-$v
	[ -f "$dst/.done" ] && continue
	tb=/usr/src/linux-source-$v.tar.xz
	if [ ! -f "$tb" ]; then
		echo "ksrc: $tb missing; run scripts/setup-deps.sh" >&2
		exit 1
	fi
	echo "ksrc: extracting pieces of $tb into $dst"
	rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
	tar -xJf "$tb" -C "$dst.tmp" --strip-components=1 --wildcards \
		"linux-source-$v/tools/testing/selftests/kselftest*" \
		"linux-source-$v/scripts/checkpatch.pl" \
		"linux-source-$v/scripts/spelling.txt" \
		"linux-source-$v/scripts/const_structs.checkpatch" \
		"linux-source-$v/tools/net/ynl/*" \
		"linux-source-$v/Documentation/netlink/*" 2>/dev/null ||
	tar -xJf "$tb" -C "$dst.tmp" --strip-components=1 --wildcards \
		"linux-source-$v/tools/testing/selftests/kselftest*" \
		"linux-source-$v/scripts/checkpatch.pl" \
		"linux-source-$v/scripts/spelling.txt" \
		"linux-source-$v/scripts/const_structs.checkpatch"
	rm -rf "$dst" && mv "$dst.tmp" "$dst" && touch "$dst/.done"
done
