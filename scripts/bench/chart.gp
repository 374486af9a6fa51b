# SPDX-License-Identifier: GPL-2.0-only
# The README's chart (scripts/rq bench): messages/s against message size,
# one line per transport, from chart.dat (size, then one column a transport).
# usage: gnuplot -e "data='out/bench/chart.dat'; out='out/bench/throughput.png'" chart.gp
set terminal pngcairo size 900,520 font "sans,11"
set output out
set title "Messages per second, 1 writer and 1 reader process (median)"
set xlabel "message size (bytes)"
set ylabel "messages per second"
set logscale x 2
set logscale y 10
set xrange [12:5600]
set xtics (16, 64, 256, 1024, 4096)
set format y "%.0s%c"
set grid xtics ytics
set key outside right center
set datafile commentschars "#"
plot for [i=2:7] data using 1:i with linespoints lw 2 pt 7 ps 0.8 \
	title word("rustqueue pipe mqueue sysv seqpacket floor", i - 1)
