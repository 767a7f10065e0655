#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dt-check: the device-tree side of rackpwr, checked with the tools an
# upstream submission meets.  TAP on stdout.
#
#   binding   every Documentation/devicetree/bindings/**.yaml passes
#             dt-doc-validate (the dt-schema meta-schema);
#   overlay   every dts-overlays/*.dtso compiles with "dtc -@", applies with
#             fdtoverlay onto the kernel's own BeagleBone Black tree
#             (am335x-boneblack.dts, Debian's linux-source-6.1), and the
#             result passes dt-validate against the project's bindings plus
#             the kernel's serial bindings (6.12's, the strictest: named
#             serdev children, rs485 properties, 8250_omap).  The board's
#             own tree does not pass dt-schema 2022.08 cleanly, so an
#             overlay fails on the errors it adds to the board's own;
#   control   a copy of each overlay with one wrong property must fail, so
#             the check above can fail.
#
# Needs dtc, fdtoverlay (device-tree-compiler), cpp, dt-schema and the
# linux-source tarballs (scripts/setup-deps.sh installs them).  The kernel
# pieces are extracted into build/dt once; nothing is copied into the repo.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/build/dt
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

notok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}

for t in dtc fdtoverlay cpp dt-validate dt-doc-validate dt-mk-schema; do
	if ! command -v "$t" >/dev/null; then
		echo "1..0 # SKIP $t missing (scripts/setup-deps.sh installs it)"
		exit 0
	fi
done

# One extraction at a time, as scripts/ksrc.sh.
extract() {
	v=$1
	dst=$2
	shift 2
	[ -f "$dst/.done" ] && return 0
	tb=/usr/src/linux-source-$v.tar.xz
	[ -f "$tb" ] || { echo "dt-check: $tb missing" >&2; return 1; }
	rm -rf "$dst.tmp" && mkdir -p "$dst.tmp" &&
	tar -xJf "$tb" -C "$dst.tmp" --strip-components=1 --wildcards "$@" &&
	rm -rf "$dst" && mv "$dst.tmp" "$dst" && touch "$dst/.done"
}

mkdir -p "$out"
exec 9>"$out/.lock"
command -v flock >/dev/null && flock 9
if ! extract 6.1 "$out/linux-6.1" \
	"linux-source-6.1/arch/arm/boot/dts/am33*" \
	"linux-source-6.1/arch/arm/boot/dts/tps65217.dtsi" \
	"linux-source-6.1/include/dt-bindings/*" ||
   ! extract 6.12 "$out/linux-6.12" \
	"linux-source-6.12/Documentation/devicetree/bindings/serial/*"; then
	echo "1..0 # SKIP kernel sources not available"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Our bindings and the kernel's serial ones, side by side.
mkdir -p "$work/sch/serial"
cp -r Documentation/devicetree/bindings/. "$work/sch/"
for f in serial.yaml serial-peripheral-props.yaml rs485.yaml 8250_omap.yaml; do
	cp "$out/linux-6.12/Documentation/devicetree/bindings/serial/$f" \
		"$work/sch/serial/"
done
# Bindings: the meta-schema, $id checked against the path, references
# resolved against the kernel serial bindings.
for b in $(cd Documentation/devicetree/bindings && find . -name '*.yaml' |
	   sed 's|^\./||' | sort); do
	if msg=$(cd "$work/sch" && dt-doc-validate -u . "$b" 2>&1) &&
	   [ -z "$msg" ]; then
		ok "binding $b"
	else
		notok "binding $b" "$msg"
	fi
done

# The processed schema.
if msg=$(dt-mk-schema -j -o "$work/schema.json" "$work/sch" 2>&1) &&
   [ -z "$msg" ]; then
	ok "processed schema"
else
	notok "processed schema" "$msg"
	echo "1..$n"
	exit 1
fi

# The board.
k=$out/linux-6.1
if msg=$(cpp -nostdinc -I "$k/arch/arm/boot/dts" -I "$k/include" -undef \
	     -D__DTS__ -x assembler-with-cpp \
	     "$k/arch/arm/boot/dts/am335x-boneblack.dts" -o "$work/board.dts" \
	     2>&1 &&
	 dtc -@ -q -i "$k/arch/arm/boot/dts" -I dts -O dtb \
	     -o "$work/board.dtb" "$work/board.dts" 2>&1); then
	ok "base board am335x-boneblack.dtb"
else
	notok "base board am335x-boneblack.dtb" "$msg"
	echo "1..$n"
	exit 1
fi

# dt-validate's findings for a tree, file name removed, as a sorted set.
findings() {
	dt-validate -s "$work/schema.json" "$1" 2>&1 |
		sed "s|$1|DTB|g; s|$work/sch/||g" | sort -u
}
findings "$work/board.dtb" >"$work/board.txt"

# check NAME SOURCE: compile, apply, validate; prints the added findings.
check() {
	dtc -@ -I dts -O dtb -o "$work/$1.dtbo" "$2" 2>&1 || return 1
	fdtoverlay -i "$work/board.dtb" -o "$work/$1.dtb" "$work/$1.dtbo" \
		2>&1 || return 1
	findings "$work/$1.dtb" | comm -13 "$work/board.txt" - |
		grep -v '^[[:space:]]*From schema:' || true
}

for src in dts-overlays/*.dtso; do
	name=$(basename "$src" .dtso)
	added=$(check "$name" "$src")
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$added" ]; then
		ok "overlay $name applies to am335x-boneblack and validates"
	else
		notok "overlay $name applies to am335x-boneblack and validates" \
			"$added"
	fi
	# Negative control: an address off the bus's range must be caught.
	sed 's/rackpwr,address = <[^>]*>/rackpwr,address = <255>/' "$src" \
		>"$work/bad-$name.dtso"
	bad=$(check "bad-$name" "$work/bad-$name.dtso")
	if printf '%s\n' "$bad" | grep -q 'rackpwr,address'; then
		ok "control: $name with rackpwr,address 255 is refused"
	else
		notok "control: $name with rackpwr,address 255 is refused" \
			"dt-validate found nothing: $bad"
	fi
done

echo "1..$n"
[ "$fails" -eq 0 ]
