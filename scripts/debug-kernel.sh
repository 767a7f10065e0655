#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the debug kernel the VM rig can boot (RPW_KERNEL=debug): Debian's
# linux-source-6.1 with lockdep, atomic-sleep checks, KASAN, kmemleak and
# debug objects, small enough for the rig (initramfs, 8250 and PCI UARTs,
# serdev, I2C stub, AT24, hwmon, debugfs, tracing, loadable modules).
# Nothing from the kernel tree enters the repository: the source is
# unpacked under build/, like scripts/ksrc.sh does for its pieces.
#
# Usage: scripts/debug-kernel.sh [-f]      (-f: rebuild an existing cache)
#        scripts/debug-kernel.sh modules  rackpwr*.ko and the rig's test
#                                         modules built against it, into
#                                         $RPW_DEBUG_KERNEL_DIR/ko (the
#                                         rig does this for RPW_KERNEL=debug)
#
# Environment:
#   RPW_DEBUG_KERNEL_DIR  cache (default build/debug-kernel); holds
#                         src/ (unpacked tree), obj/ (O= build, also the
#                         KDIR rackpwr.ko is built against), bzImage,
#                         lib/modules/$KREL/, krelease, .done, and
#                         modsrc/ and ko/ (the "modules" command)
#   DEBUG_KERNEL_JOBS     make -j (default 2); the build runs at nice 19
#   DEBUG_KERNEL_KASAN    outline (default), inline or off
#
# A second run with the cache present does nothing.  Build time on two
# shared cores: see Documentation/dev-tools/rackpwr-testing.rst.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${RPW_DEBUG_KERNEL_DIR:-$top/build/debug-kernel}
jobs=${DEBUG_KERNEL_JOBS:-2}
kasan=${DEBUG_KERNEL_KASAN:-outline}
tb=/usr/src/linux-source-6.1.tar.xz
localversion=-rpwdebug

die() { echo "debug-kernel: $*" >&2; exit 1; }

# The project's modules, built from a copy of their sources: Kbuild builds
# in the source directory, where the host build keeps objects for Debian's
# kernel.  A module for another kernel refuses to load (vermagic).
if [ "${1:-}" = modules ]; then
	[ -f "$dir/.done" ] || die "$dir not built: run scripts/debug-kernel.sh"
	m=$dir/modsrc
	mkdir -p "$m/rig"
	(cd "$top" && find Kbuild driver include selftests/rig/modules \
		-maxdepth 3 \( -name '*.[ch]' -o -name Kbuild \) -print) |
	while read -r f; do
		case $f in
		selftests/rig/modules/*) d=$m/rig/${f#selftests/rig/modules/} ;;
		*) d=$m/$f ;;
		esac
		mkdir -p "$(dirname "$d")"
		cmp -s "$top/$f" "$d" || cp "$top/$f" "$d"
	done
	echo 'obj-m := rig_warn.o' >"$m/rig/Kbuild"
	make -s -C "$dir/obj" M="$m" W=1 modules
	make -s -C "$dir/obj" M="$m/rig" modules
	rm -rf "$dir/ko" && mkdir -p "$dir/ko"
	cp "$m"/*.ko "$m"/rig/*.ko "$dir/ko/"
	echo "debug-kernel: $(ls "$dir/ko" | wc -l) modules for" \
		"$(cat "$dir/krelease") in $dir/ko"
	exit 0
fi

force=
[ "${1:-}" = -f ] && force=1
if [ -f "$dir/.done" ] && [ -z "$force" ]; then
	echo "debug-kernel: $dir is built ($(cat "$dir/krelease")); -f rebuilds"
	exit 0
fi
[ -f "$tb" ] || die "$tb missing; run scripts/setup-deps.sh"
for t in flex bison bc perl; do
	command -v "$t" >/dev/null || die "$t missing (scripts/setup-deps.sh)"
done
[ -e /usr/include/libelf.h ] || die "libelf-dev missing (objtool needs it)"

mkdir -p "$dir"
if [ -z "${DEBUG_KERNEL_LOCKED:-}" ] && command -v flock >/dev/null; then
	DEBUG_KERNEL_LOCKED=1 exec flock "$dir/.lock" "$0" "$@"
fi
rm -f "$dir/.done"
t0=$(date +%s)

src=$dir/src
obj=$dir/obj
if [ ! -f "$src/.unpacked" ]; then
	echo "debug-kernel: unpacking $tb into $src"
	rm -rf "$src" && mkdir -p "$src"
	nice -n 19 tar -xJf "$tb" -C "$src" --strip-components=1
	touch "$src/.unpacked"
fi

kmake() {
	nice -n 19 make -C "$src" O="$obj" LOCALVERSION="$localversion" "$@"
}

mkdir -p "$obj"
kmake -s x86_64_defconfig
kmake -s kvm_guest.config
sc() { "$src/scripts/config" --file "$obj/.config" "$@"; }

# What the guest needs: the rig boots an initramfs with a PVH entry, talks
# on 8250 (ISA and PCI) UARTs, modprobes i2c-dev and i2c-stub; rackpwr
# uses serdev, I2C, hwmon, debugfs, tracepoints and generic netlink.
sc -e MODULES -e MODULE_UNLOAD -d MODVERSIONS -d MODULE_SIG \
   -e BLK_DEV_INITRD -e RD_GZIP -e DEVTMPFS -e TMPFS -e PVH \
   -e SERIAL_8250 -e SERIAL_8250_CONSOLE -e SERIAL_8250_PCI \
   --set-val SERIAL_8250_NR_UARTS 32 --set-val SERIAL_8250_RUNTIME_UARTS 4 \
   -e SERIAL_DEV_BUS -e SERIAL_DEV_CTRL_TTYPORT -e TTY -e UNIX98_PTYS \
   -e I2C -m I2C_CHARDEV -m I2C_STUB -m EEPROM_AT24 -e HWMON -e NVMEM \
   -e DEBUG_FS -e FTRACE -e ENABLE_DEFAULT_TRACERS -e KALLSYMS \
   -e NET -e UNIX -e NETLINK_DIAG \
   -e CRYPTO_HMAC -e CRYPTO_SHA256 -e CRYPTO_CMAC -e CRYPTO_AES

# The checks this kernel exists for.
sc -e DEBUG_KERNEL -d PREEMPT_NONE -d PREEMPT_VOLUNTARY -e PREEMPT -e DEBUG_ATOMIC_SLEEP -e DEBUG_PREEMPT \
   -e PROVE_LOCKING -e DEBUG_SPINLOCK -e DEBUG_MUTEXES \
   -e DEBUG_LOCK_ALLOC -e DEBUG_RWSEMS \
   -e DEBUG_KMEMLEAK --set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 64000 \
   -d DEBUG_KMEMLEAK_AUTO_SCAN -d DEBUG_KMEMLEAK_DEFAULT_OFF \
   -e DEBUG_OBJECTS -e DEBUG_OBJECTS_TIMERS -e DEBUG_OBJECTS_WORK \
   -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_RCU_HEAD -e DEBUG_LIST \
   -e SOFTLOCKUP_DETECTOR -e DETECT_HUNG_TASK -e BUG_ON_DATA_CORRUPTION
case $kasan in
outline) sc -e KASAN -e KASAN_GENERIC -e KASAN_OUTLINE -d KASAN_INLINE ;;
inline) sc -e KASAN -e KASAN_GENERIC -e KASAN_INLINE -d KASAN_OUTLINE ;;
off) sc -d KASAN ;;
*) die "DEBUG_KERNEL_KASAN=$kasan: want outline, inline or off" ;;
esac

# Not needed in a serial-only initramfs guest; off to keep the build short
# on two shared cores.  No debug info: splats are symbolized by kallsyms.
sc -d DEBUG_INFO -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO_NONE \
   -d DRM -d SOUND -d WIRELESS -d WLAN -d CFG80211 -d NETFILTER \
   -d USB_SUPPORT -d SCSI -d ATA -d MD -d NFS_FS -d EXT4_FS -d IPV6 \
   -d ETHERNET -d AGP -d HID -d INPUT_MOUSE -d INPUT_JOYSTICK \
   -d INPUT_TABLET -d INPUT_TOUCHSCREEN -d FB -d LOGO -d WATCHDOG \
   -d SECURITY_SELINUX -d AUDIT -d BPF_SYSCALL -d XEN
kmake -s olddefconfig

# Options that a dependency silently dropped would make the kernel pointless.
for o in DEBUG_ATOMIC_SLEEP PROVE_LOCKING DEBUG_SPINLOCK DEBUG_KMEMLEAK \
	 DEBUG_OBJECTS_TIMERS DEBUG_LIST SERIAL_DEV_BUS BLK_DEV_INITRD \
	 DEBUG_FS PVH; do
	grep -q "^CONFIG_$o=y" "$obj/.config" || die "CONFIG_$o did not stick"
done
for o in I2C_CHARDEV I2C_STUB EEPROM_AT24; do
	grep -q "^CONFIG_$o=m" "$obj/.config" || die "CONFIG_$o=m did not stick"
done
if [ "$kasan" != off ]; then
	grep -q '^CONFIG_KASAN=y' "$obj/.config" || die "CONFIG_KASAN did not stick"
fi

echo "debug-kernel: building bzImage and modules (make -j$jobs, nice 19)"
kmake -j"$jobs" bzImage modules
krel=$(cat "$obj/include/config/kernel.release")
rm -rf "$dir/lib/modules/$krel"
kmake -s INSTALL_MOD_PATH="$dir" INSTALL_MOD_STRIP=1 modules_install
# The out-of-tree build goes against obj/ (KDIR); point the usual links there.
ln -sfn "$obj" "$dir/lib/modules/$krel/build"
cp "$obj/arch/x86/boot/bzImage" "$dir/bzImage"
echo "$krel" >"$dir/krelease"
touch "$dir/.done"
echo "debug-kernel: $krel in $dir ($(($(date +%s) - t0)) s)"
