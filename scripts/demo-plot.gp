# SPDX-License-Identifier: GPL-2.0-only
#
# The main job's plot (scripts/demo.sh): the rack's usable capacity, the
# policy's budget and the watts granted over the demo's time, with its
# events marked.  Called as
#   gnuplot -e "dat='D'; marks='M'; out='P'" scripts/demo-plot.gp
# D: "SECONDS USABLE_MW BUDGET_MW HELD_MW" per sample (seconds since the
# first; HELD: the granted watts the chassis' slots hold); M: gnuplot
# commands (set arrow / set label) that demo.sh writes for the events;
# P: the PNG written.
set terminal pngcairo size 1100,560 font "sans,10"
set output out
set title "rackpwr demo: the seed's rack (2 assemblies x 6 supplies, 6 chassis x 8 servers)"
set xlabel "time since the rack was up (s)"
set ylabel "kW"
set grid ytics lc rgb "#dddddd"
set key outside right top vertical
set yrange [0:*]
set offsets 0, 0, graph 0.25, 0
load marks
plot dat using 1:($2 / 1e6) with steps lw 2 lc rgb "#2060c0" title "usable capacity", \
     dat using 1:($3 / 1e6) with steps lw 2 dt 2 lc rgb "#000000" title "budget (mode)", \
     dat using 1:($4 / 1e6) with steps lw 2 lc rgb "#20a040" title "granted (held by the servers)"
