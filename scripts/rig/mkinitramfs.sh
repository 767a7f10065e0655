#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the busybox initramfs that the QEMU test rig (scripts/rig/vmrun.py)
# boots.  Usage: scripts/rig/mkinitramfs.sh OUT.cpio.gz
#
# Contents:
#   /init                     scripts/rig/guest-init.sh (runs the tests, TAP)
#   /lib/rig.sh               helpers for shell tests (rig_hub, rig_sync, ...)
#   /bin, /sbin, /usr/...     busybox-static and its applet symlinks
#   /lib/modules/$KVER/extra  every ./*.ko of the out-of-tree build and
#                             selftests/rig/modules/*.ko
#   /lib/modules/$KVER/kernel in-tree modules $RIG_KMODS (+ dependencies),
#                             depmod'ed so busybox modprobe works
#   /usr/bin                  agent/rackpwrd, agent/rackpwrctl, sensors (with
#                             its shared libraries), when they exist
#   /usr/sbin/ldattach        util-linux ldattach (and its libraries), when
#                             installed
#   /tests/NAME               every built selftests/vm test (C program from
#                             $RIG_VM_TESTS_DIR, *.sh from selftests/vm/)
#   /rigtests/NAME            the rig's own guest tests (selftests/rig/guest
#                             *.sh, C ones built into build/rig-tests)
#
# Environment:
#   KVER              kernel release (default: newest /lib/modules/*-amd64
#                     that has a /boot/vmlinuz-* image)
#   RIG_KMODS         in-tree modules to include (default "i2c-dev i2c-stub
#                     at24")
#   RIG_KMODS_EXTRA   more in-tree modules on top of RIG_KMODS
#   RIG_VM_TESTS_DIR  where selftests/vm/Makefile put the C tests
#                     (default build/vm-tests)
#   RIG_MODBASE       root the kernel's modules are installed under (default
#                     /; the debug kernel's cache for RPW_KERNEL=debug)
#   RIG_KO_DIRS       where the project's *.ko are (default: the top
#                     directory and selftests/rig/modules)
#   RIG_CLIENTS       1: add the standard clients the "# rig-clients: 1"
#                     tests drive: python3 (pruned to what they import, by
#                     scripts/rig/pyfiles.py) with PyYAML and pyroute2,
#                     the kernel's ynl CLI and library
#                     (/usr/lib/rackpwr/ynl), the family's spec
#                     (/usr/share/rackpwr/rackpwr.yaml), the tests' Python
#                     helpers (/lib/rackpwr/py), iproute2's genl and
#                     prometheus-node-exporter
set -eu

die() { echo "mkinitramfs: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUT.cpio.gz"
OUT=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
RIG_KMODS=${RIG_KMODS:-"i2c-dev i2c-stub at24"}
RIG_KMODS_EXTRA=${RIG_KMODS_EXTRA:-}
RIG_VM_TESTS_DIR=${RIG_VM_TESTS_DIR:-$TOP/build/vm-tests}
RIG_MODBASE=${RIG_MODBASE:-}
RIG_KO_DIRS=${RIG_KO_DIRS:-"$TOP $TOP/selftests/rig/modules"}
RIG_CLIENTS=${RIG_CLIENTS:-0}

# Newest kernel that has both modules and an image: the one vmrun.py boots.
default_kver() {
	ls -d /lib/modules/*-amd64 2>/dev/null | sed 's|.*/||' | sort -rV |
	while read -r v; do
		if [ -e "/boot/vmlinuz-$v" ]; then echo "$v"; break; fi
	done
}
KVER=${KVER:-$(default_kver)}
[ -n "$KVER" ] || die "no /lib/modules/*-amd64 with a /boot/vmlinuz-* image"
MODDIR=/lib/modules/$KVER
[ -d "$RIG_MODBASE$MODDIR" ] || die "$RIG_MODBASE$MODDIR missing"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
# ldd succeeds only on dynamically linked programs.
is_dynamic() { ldd "$1" >/dev/null 2>&1; }
is_dynamic "$BUSYBOX" &&
	die "$BUSYBOX is dynamically linked; need busybox-static"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/rig-initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT INT TERM

# Copy a dynamically linked program plus every library ldd lists and the
# ELF loader, at their host paths, so it runs unchanged in the guest.
copy_dyn() {
	src=$1 dst=$2
	install -D -m 0755 "$src" "$STAGE$dst"
	ldd "$src" 2>/dev/null | awk '
		/=> \// { print $3; next }
		/^[ \t]*\// { print $1 }' |
	while read -r lib; do
		[ -e "$STAGE$lib" ] && continue
		mkdir -p "$STAGE$(dirname "$lib")"
		cp -L "$lib" "$STAGE$lib"
	done
}

# Name of a guest test: file name without a .sh suffix.
add_test() {
	src=$1 dir=$2
	name=$(basename "$src" .sh)
	[ -e "$STAGE/$dir/$name" ] &&
		die "test name '$name' used twice (in $dir)"
	install -m 0755 "$src" "$STAGE/$dir/$name"
}

mkdir -p "$STAGE"/bin "$STAGE"/sbin "$STAGE"/usr/bin "$STAGE"/usr/sbin \
	"$STAGE"/lib "$STAGE"/etc "$STAGE"/proc "$STAGE"/sys "$STAGE"/dev \
	"$STAGE"/tmp "$STAGE"/run "$STAGE"/root "$STAGE"/tests \
	"$STAGE"/rigtests "$STAGE$MODDIR/extra"

# busybox and one symlink per applet, at the path busybox expects.
install -m 0755 "$BUSYBOX" "$STAGE/bin/busybox"
"$BUSYBOX" --list-full | while read -r app; do
	[ -e "$STAGE/$app" ] || ln -s /bin/busybox "$STAGE/$app"
done

install -m 0755 "$TOP/scripts/rig/guest-init.sh" "$STAGE/init"
# The helpers live in the same file: the init sources itself in library
# mode, so tests and init can never disagree about the protocol.
ln -s /init "$STAGE/lib/rig.sh"
# The kernel opens /dev/console for init before devtmpfs is mounted; the
# node needs root to create, and /init redirects again in any case.
mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || true
echo "root:x:0:0:root:/root:/bin/sh" >"$STAGE/etc/passwd"
echo "root:x:0:" >"$STAGE/etc/group"

# Project modules: the out-of-tree build leaves *.ko at the top level.
nko=0
for ko in $(for d in $RIG_KO_DIRS; do ls "$d"/*.ko 2>/dev/null; done); do
	[ -e "$ko" ] || continue
	install -m 0644 "$ko" "$STAGE$MODDIR/extra/"
	nko=$((nko + 1))
done

# In-tree modules and, recursively, what they depend on.
want=$(echo "$RIG_KMODS $RIG_KMODS_EXTRA" | tr ' ' '\n' | sed '/^$/d')
seen=
while [ -n "$want" ]; do
	m=$(echo "$want" | head -n 1)
	want=$(echo "$want" | sed 1d)
	case " $seen " in *" $m "*) continue ;; esac
	seen="$seen $m"
	f=$(modinfo ${RIG_MODBASE:+-b "$RIG_MODBASE"} -k "$KVER" -F filename \
		"$m" 2>/dev/null) || die "in-tree module $m not found for $KVER"
	case $f in
	/*) ;;
	*) continue ;;	# "(builtin)": nothing to copy
	esac
	install -D -m 0644 "$f" "$STAGE${f#"$RIG_MODBASE"}"
	deps=$(modinfo ${RIG_MODBASE:+-b "$RIG_MODBASE"} -k "$KVER" \
		-F depends "$m" | tr ',' '\n' | sed '/^$/d')
	[ -n "$deps" ] && want=$(printf '%s\n%s\n' "$want" "$deps" | sed '/^$/d')
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -e "$RIG_MODBASE$MODDIR/$f" ] &&
		cp "$RIG_MODBASE$MODDIR/$f" "$STAGE$MODDIR/"
done
depmod -b "$STAGE" "$KVER"

# User space of the project, when it has been built.
for b in rackpwrd rackpwrctl; do
	[ -x "$TOP/agent/$b" ] || continue
	if is_dynamic "$TOP/agent/$b"; then
		copy_dyn "$TOP/agent/$b" "/usr/bin/$b"
	else
		install -m 0755 "$TOP/agent/$b" "$STAGE/usr/bin/$b"
	fi
done

# util-linux ldattach (busybox has none): the line discipline is attached
# the way the admin guide says, not only through rackpwrctl.
if [ -x /usr/sbin/ldattach ]; then
	copy_dyn /usr/sbin/ldattach /usr/sbin/ldattach
fi

# lm-sensors, so hwmon tests can check what users actually see.
if [ -x /usr/bin/sensors ]; then
	copy_dyn /usr/bin/sensors /usr/bin/sensors
	[ -e /etc/sensors3.conf ] && cp /etc/sensors3.conf "$STAGE/etc/"
	mkdir -p "$STAGE/etc/sensors.d"
fi

# Standard clients, for the tests that check they work unmodified.
if [ "$RIG_CLIENTS" = 1 ]; then
	PY=/usr/bin/python3
	YNL=$TOP/build/linux-6.12/tools/net/ynl
	[ -x "$PY" ] || die "RIG_CLIENTS: $PY missing"
	[ -f "$YNL/cli.py" ] || die "RIG_CLIENTS: $YNL missing (scripts/ksrc.sh)"
	for b in /usr/sbin/genl /usr/bin/prometheus-node-exporter; do
		[ -x "$b" ] || die "RIG_CLIENTS: $b missing (scripts/setup-deps.sh)"
		copy_dyn "$b" "$b"
	done
	copy_dyn "$(readlink -f "$PY")" "$PY"
	# cp -p keeps the sources' times, so the compiled twins stay valid.
	"$PY" "$TOP/scripts/rig/pyfiles.py" "$YNL" "$TOP/selftests/vm/py" |
	while read -r f; do
		mkdir -p "$STAGE$(dirname "$f")"
		cp -p "$f" "$STAGE$f"
	done
	[ -s "$STAGE/usr/lib/python3.11/os.py" ] ||
		die "RIG_CLIENTS: pruned python has no os.py"
	mkdir -p "$STAGE/usr/lib/rackpwr/ynl/lib" "$STAGE/usr/share/rackpwr" \
		"$STAGE/lib/rackpwr/py"
	cp -p "$YNL/cli.py" "$STAGE/usr/lib/rackpwr/ynl/"
	cp -p "$YNL"/lib/*.py "$STAGE/usr/lib/rackpwr/ynl/lib/"
	cp "$TOP/Documentation/netlink/specs/rackpwr.yaml" \
		"$STAGE/usr/share/rackpwr/"
	cp "$TOP"/selftests/vm/py/*.py "$STAGE/lib/rackpwr/py/" 2>/dev/null ||
		true
fi

# Guest tests.  "rig.tests=all" runs /tests only; /rigtests holds the rig's
# self-tests, some of which fail on purpose.
ntest=0
if [ -d "$RIG_VM_TESTS_DIR" ]; then
	for t in "$RIG_VM_TESTS_DIR"/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		add_test "$t" tests
		ntest=$((ntest + 1))
	done
fi
for t in "$TOP"/selftests/vm/*.sh; do
	[ -e "$t" ] || continue
	add_test "$t" tests
	ntest=$((ntest + 1))
done
# Helper libraries sourced by the project's shell tests.
mkdir -p "$STAGE/lib/rackpwr"
for l in "$TOP"/selftests/vm/lib/*.sh; do
	[ -f "$l" ] && cp "$l" "$STAGE/lib/rackpwr/"
done
for t in "$TOP"/selftests/rig/guest/*.sh "$TOP"/build/rig-tests/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	add_test "$t" rigtests
done

mkdir -p "$(dirname "$OUT")"
(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
echo "mkinitramfs: $OUT (kernel $KVER, $nko project modules," \
	"$ntest vm tests, $(du -k "$OUT" | cut -f1) KiB)"
