# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers of the rackpwr guest shell tests (installed as
# /lib/rackpwr/tap.sh by scripts/rig/mkinitramfs.sh).  TAP output; call
# tap_end last: it prints the plan and returns non-zero on any failure.

_n=0
_fail=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
nok() { _n=$((_n + 1)); _fail=$((_fail + 1)); echo "not ok $_n - $*"; }
# check DESC WANT GOT
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (want '$2', got '$3')"; fi
}
# check_ge DESC MIN GOT
check_ge() {
	if [ "$3" -ge "$2" ] 2>/dev/null; then ok "$1 ($3 >= $2)"
	else nok "$1 (want >= $2, got '$3')"; fi
}
# expect_fail DESC PATTERN CMD...: CMD must fail and print PATTERN
expect_fail() {
	_d=$1; _p=$2; shift 2
	_out=$("$@" 2>&1) && { nok "$_d (succeeded: $_out)"; return; }
	case "$_out" in
	*$_p*) ok "$_d" ;;
	*) nok "$_d (no '$_p' in: $_out)" ;;
	esac
}
tap_end() {
	echo "1..$_n"
	[ "$_fail" -eq 0 ]
}

# field KEY LINE: value of key=value in a rackpwrctl output line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# stat NODE KEY: one counter of a node
stat() { field "$2" "$(rackpwrctl stats "$1")"; }
# attached FILE: wait (5 s at most) for rackpwrctl attach's "attached" line.
attached() {
	_w=0
	while ! grep -q '^attached id=' "$1" 2>/dev/null; do
		[ $_w -ge 100 ] && return 1
		usleep 50000
		_w=$((_w + 1))
	done
}
