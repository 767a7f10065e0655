#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make install` into a staging directory (DESTDIR) lays out the expected
# tree: the modules under /lib/modules/KVER/extra with depmod's index,
# the agent and CLI under PREFIX/sbin, the systemd units naming those
# binaries, the udev rule, the modprobe.d / modules-load.d snippets and
# /etc/default/rackpwr (kept when it exists).  With systemd-analyze
# present, both units (as instances) pass `systemd-analyze verify`;
# otherwise that check is a SKIP.  TAP; run from the top directory
# (scripts/run-tests.sh step "install").
set -u
cd "$(dirname "$0")/../.." || exit 2
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $*"; }
has() { if [ -e "$T$1" ]; then ok "installed $1"; else nok "missing $1"; fi; }

T=$(mktemp -d)
T2=$(mktemp -d)
trap 'rm -rf "$T" "$T2"' EXIT INT TERM

if make -s install DESTDIR="$T" >"$T2/log" 2>&1; then
	ok "make install DESTDIR=..."
else
	nok "make install DESTDIR=..."; sed 's/^/# /' "$T2/log" | tail -20
fi
KVER=$(ls "$T/lib/modules" 2>/dev/null | head -n1)
[ -n "$KVER" ] && ok "modules tree for $KVER" || nok "no lib/modules/KVER"
M=/lib/modules/$KVER
for f in $M/extra/rackpwr.ko $M/modules.dep /usr/local/sbin/rackpwrd \
	 /usr/local/sbin/rackpwrctl /etc/systemd/system/rackpwrd@.service \
	 /etc/systemd/system/rackpwr-attach@.service \
	 /etc/udev/rules.d/60-rackpwr.rules /etc/modprobe.d/rackpwr.conf \
	 /etc/modules-load.d/rackpwr.conf /etc/default/rackpwr; do
	has "$f"
done
grep -q '^extra/rackpwr.ko:' "$T$M/modules.dep" 2>/dev/null &&
	ok "depmod indexed extra/rackpwr.ko" || nok "modules.dep lacks extra/rackpwr.ko"
[ -x "$T/usr/local/sbin/rackpwrd" ] && [ -x "$T/usr/local/sbin/rackpwrctl" ] &&
	ok "binaries executable" || nok "binaries not executable"
grep -q '^ExecStart=/usr/local/sbin/rackpwrd --node %I ' \
	"$T/etc/systemd/system/rackpwrd@.service" 2>/dev/null &&
	ok "unit runs PREFIX's rackpwrd for node %I" || nok "unit's ExecStart"
grep -q '^RuntimeDirectory=rackpwrd$' "$T/etc/systemd/system/rackpwrd@.service" &&
	grep -q '^Restart=on-failure$' "$T/etc/systemd/system/rackpwrd@.service" &&
	ok "unit: /run/rackpwrd, restart on failure" || nok "unit: RuntimeDirectory/Restart"
if grep -rq '@SBINDIR@' "$T/etc"; then nok "@SBINDIR@ left in a file"
else ok "no placeholder left"; fi
extra=$(cd "$T" && find . -type f | grep -v "^\.$M/" | sort | tr '\n' ' ')
want="./etc/default/rackpwr ./etc/modprobe.d/rackpwr.conf ./etc/modules-load.d/rackpwr.conf ./etc/systemd/system/rackpwr-attach@.service ./etc/systemd/system/rackpwrd@.service ./etc/udev/rules.d/60-rackpwr.rules ./usr/local/sbin/rackpwrctl ./usr/local/sbin/rackpwrd "
[ -f agent/dist/rackpwrd.conf ] && want="./etc/rackpwrd.conf $want"
want=$(echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
[ "$extra" = "$want" ] && ok "nothing else installed outside the modules" ||
	nok "tree: got '$extra', want '$want'"

# An administrator's /etc/default/rackpwr survives a reinstall.
echo 'RACKPWR_ATTACH_OPTS="--addr 7"' >"$T/etc/default/rackpwr"
make -s install-agent DESTDIR="$T" >/dev/null 2>&1
grep -q -- '--addr 7' "$T/etc/default/rackpwr" &&
	ok "existing /etc/default/rackpwr kept" || nok "/etc/default/rackpwr overwritten"

# A package's layout.
make -s install-agent DESTDIR="$T2/pkg" PREFIX=/usr UNITDIR=/lib/systemd/system \
	UDEVRULESDIR=/lib/udev/rules.d >/dev/null 2>&1
[ -x "$T2/pkg/usr/sbin/rackpwrd" ] &&
	grep -q '^ExecStart=/usr/sbin/rackpwrctl attach' \
		"$T2/pkg/lib/systemd/system/rackpwr-attach@.service" &&
	[ -f "$T2/pkg/lib/udev/rules.d/60-rackpwr.rules" ] &&
	ok "PREFIX=/usr UNITDIR= UDEVRULESDIR= honoured" || nok "package layout"

# systemd-analyze verify needs the binaries the units name to exist:
# install with every path inside $T2/v (no DESTDIR), then verify one
# instance of each template.
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze verify (systemd-analyze not installed)"
	skip "systemd-analyze verify attach unit"
else
	V=$T2/v
	make -s install-agent PREFIX="$V/usr" SYSCONFDIR="$V/etc" \
		UNITDIR="$V/units" UDEVRULESDIR="$V/rules" >/dev/null 2>&1
	mkdir -p "$V/check"
	cp "$V/units/rackpwrd@.service" "$V/check/rackpwrd@3.service"
	cp "$V/units/rackpwr-attach@.service" "$V/check/rackpwr-attach@ttyS1.service"
	for u in rackpwrd@3.service rackpwr-attach@ttyS1.service; do
		out=$(cd "$V/check" && systemd-analyze verify --man=no "./$u" 2>&1)
		if [ $? -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $u"
		else nok "systemd-analyze verify $u"; echo "$out" | sed 's/^/# /'; fi
	done
fi
echo "1..$n"
[ "$fail" -eq 0 ]
