#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The main job: installs what is missing, builds rackpwr, boots Debian's
# kernel in QEMU with the seed's rack (selftests/vm/demo_rack.sh: 2
# power-supply modules with 6 supplies each, 6 chassis of 8 servers, one
# rackpwrd per power-supply module) and tells its story step by step, with
# the rack map (rackpwrctl map) at each step; every step is checked (TAP).
# Then plots capacity, budget and granted watts over time with gnuplot to
# build/demo/rack.png.
#
# Usage: scripts/demo.sh [-j|--log]
#   -j, --log   one JSON object per line for scripts instead of the story:
#               each step's record (as the guest wrote it), then
#               {"result":...} with the checks, the plot and the log.
set -eu
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
json=0
case "${1:-}" in
-j|--log) json=1 ;;
"") ;;
*) echo "usage: scripts/demo.sh [-j|--log]" >&2; exit 2 ;;
esac
# say TEXT: progress for a person (stderr with -j: stdout is the records)
say() { if [ $json = 1 ]; then echo "$*" >&2; else echo "$*"; fi; }
quiet() { if [ $json = 1 ]; then "$@" >&2; else "$@"; fi; }

say "== installing Debian packages if missing"
quiet scripts/setup-deps.sh
quiet scripts/ksrc.sh
say "== building modules, agent and tests"
make -s modules agent >/dev/null
make -s -C selftests/vm >/dev/null
say "== booting a VM with the seed's rack (a few minutes under TCG)"
OUT=build/demo
LOG=build/vmlogs/demo/vm0.log
mkdir -p $OUT
rc=0
/usr/bin/python3 scripts/rig/vmrun.py --test demo_rack --logdir build/vmlogs/demo \
	--timeout 600 >$OUT/demo.tap || rc=$?

# The guest's machine-readable lines: "@plot T USABLE BUDGET HELD",
# "@mark T KIND TEXT", "@step {JSON}" (prefixed "# " by the rig).  Lines
# a kernel message broke are dropped by the patterns.
num='[0-9][0-9]*\(\.[0-9]*\)\{0,1\}'
sed -n "s/^# @plot \($num $num $num $num\)\$/\1/p; s/^# @plot \($num - - -\)\$/\1/p" \
	$LOG >$OUT/plot.raw
sed -n "s/^# @mark \($num [a-z][a-z-]* [ -~]*\)\$/\1/p" $LOG >$OUT/marks.raw
# Step records: only those that parse as JSON (a record a kernel message
# broke is counted, and fails the run).
sed -n 's/^# @step //p' $LOG | /usr/bin/python3 -c '
import json, sys
bad = 0
for line in sys.stdin:
    try:
        json.loads(line)
        sys.stdout.write(line)
    except ValueError:
        bad += 1
sys.stderr.write("%d\n" % bad)' >$OUT/steps.jsonl 2>$OUT/steps.bad
nsteps=$(wc -l <$OUT/steps.jsonl)
nbad=$(cat $OUT/steps.bad)
[ "$nbad" = 0 ] || rc=1

if [ $json = 0 ]; then
	# The story: the test's output without the rig's, the kernel's and
	# the machine-readable lines (nor a kernel message that ended one of
	# its lines on the console); checks as [ok] / [FAILED].
	sed -n 's/^# //p' $LOG | sed 's/\[ *[0-9][0-9]*\.[0-9]*\] .*$//' |
		grep -v '^rig:\|^@\|^RIG-' |
		sed 's/^ok [0-9]* - \(.*\)/   [ok] \1/; s/^not ok [0-9]* - \(.*\)/   [FAILED] \1/' |
		grep -v '^1\.\.[0-9]*$' || true
fi

# The plot: time from the first sample; "-" samples break the lines (a
# blank line for gnuplot); each event a dotted line, events less than
# 1.5 s apart share one label.
t0=$(awk 'NR == 1 { print $1 }' $OUT/plot.raw)
awk -v t0="${t0:-0}" '$2 == "-" { if (!gap) print ""; gap = 1; next }
	{ gap = 0; printf "%.2f %s %s %s\n", $1 - t0, $2, $3, $4 }' \
	$OUT/plot.raw >$OUT/rack.dat
awk -v t0="${t0:-0}" '
	BEGIN { c["fail"] = "#d02020"; c["shed"] = "#e08000"; c["repair"] = "#20a040";
		c["takeover"] = "#8020c0"; c["kill"] = "#8020c0"; c["release"] = "#606060" }
	function flush() {
		if (txt != "")
			printf "set label \"%s%s\" at %.2f, graph 0.99 rotate by 90 right font \",8\" tc rgb \"%s\" offset -0.6, 0\n", txt, more ? " (+" more ")" : "", lx, lc
		txt = ""; more = 0
	}
	{
		x = $1 - t0; k = $2; $1 = ""; $2 = ""; sub(/^  */, ""); gsub(/"/, "", $0)
		col = (k in c) ? c[k] : "#606060"
		printf "set arrow from %.2f, graph 0 to %.2f, graph 1 nohead dt 3 lc rgb \"%s\"\n", x, x, col
		if (txt != "" && x - px < 1.5) {
			if (n++ < 1) txt = txt ", " $0; else more++
			px = x; next
		}
		flush(); txt = $0; lx = x; px = x; lc = col; n = 0
	}
	END { flush() }' $OUT/marks.raw >$OUT/marks.gp
rm -f $OUT/rack.png
samples=$(grep -c . $OUT/rack.dat || true)
nmarks=$(wc -l <$OUT/marks.raw)
if [ "$samples" -ge 2 ] && command -v gnuplot >/dev/null; then
	gnuplot -e "dat='$OUT/rack.dat'; marks='$OUT/marks.gp'; out='$OUT/rack.png'" \
		scripts/demo-plot.gp 2>$OUT/gnuplot.err || true
fi
# Non-trivial: a PNG (its signature) of more than a blank canvas's bytes.
png_ok=0
if [ -f $OUT/rack.png ] &&
   [ "$(head -c 8 $OUT/rack.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
   [ "$(wc -c <$OUT/rack.png)" -gt 20000 ]; then
	png_ok=1
fi
[ $png_ok = 1 ] || rc=1

pass=$(grep -c '^# ok ' $LOG || true)
fail=$(grep -c '^# not ok ' $LOG || true)
tap=$(tail -n 1 $OUT/demo.tap)
if [ $json = 1 ]; then
	cat $OUT/steps.jsonl
	printf '{"result":"%s","checks_passed":%s,"checks_failed":%s,"steps":%s,"steps_broken":%s,"plot":"%s","plot_ok":%s,"samples":%s,"marks":%s,"log":"%s"}\n' \
		"$([ $rc = 0 ] && echo pass || echo fail)" "$pass" "$fail" \
		"$nsteps" "$nbad" "$OUT/rack.png" \
		"$([ $png_ok = 1 ] && echo true || echo false)" \
		"$samples" "$nmarks" "$LOG"
	exit "$rc"
fi
echo
echo "== $pass checks passed, $fail failed ($tap)"
[ "$nbad" = 0 ] || echo "== $nbad step record(s) broken on the console"
if [ $png_ok = 1 ]; then
	echo "== plot of capacity, budget and granted watts ($samples samples, $nmarks events): $TOP/$OUT/rack.png"
else
	echo "== plot NOT written ($samples samples; see $OUT/gnuplot.err)"
fi
echo "== the whole console: $LOG"
exit "$rc"
