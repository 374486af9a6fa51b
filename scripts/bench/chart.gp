# SPDX-License-Identifier: GPL-2.0-only
# The README's chart (scripts/rq bench), two panels: messages/s against
# message size, one line per transport, from chart.dat (size, then one
# column a transport); and messages/s against messages per call at 64
# bytes, from chart-batch.dat (batch, then one column a transport).
# usage: gnuplot -e "data='out/bench/chart.dat'; batch='out/bench/chart-batch.dat';
#                    out='out/bench/throughput.png'" chart.gp
set terminal pngcairo size 1400,520 font "sans,11"
set output out
set multiplot layout 1,2
set ylabel "messages per second"
set logscale y 10
set format y "%.0s%c"
set grid xtics ytics
set key outside bottom center horizontal maxrows 2
set datafile commentschars "#"
set title "One message per call, 1 writer and 1 reader (median)"
set xlabel "message size (bytes)"
set logscale x 2
set xrange [12:5600]
set xtics (16, 64, 256, 1024, 4096)
plot for [i=2:7] data using 1:i with linespoints lw 2 pt 7 ps 0.8 \
	title word("rustqueue pipe mqueue sysv seqpacket floor", i - 1)
set title "Many messages per call, 64-byte messages (median)"
set xlabel "messages per call"
set xrange [0.8:80]
set xtics (1, 16, 64)
plot for [i=2:6] batch using 1:i with linespoints lw 2 pt 7 ps 0.8 \
	title word("rustqueue-records seqpacket-mmsg pipe-uring rustqueue-uring floor", i - 1)
unset multiplot
