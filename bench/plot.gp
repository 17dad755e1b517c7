# bench/plot.gp -- bench.sh's plot: wall time by message size and candidate.
#   gnuplot -e "dat='plot.dat'; png='bench.png'; ncol=10" bench/plot.gp
# dat: a size label, then one column of milliseconds per candidate, with a
# header line of names; ncol: its number of columns.
set terminal pngcairo size 1100,620 font ",10"
set output png
set title "qmail-dkim: wall time per delivery (median), log scale"
set ylabel "ms"
set logscale y
set grid ytics mytics
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top
set datafile missing "?"
set linetype 9 lc rgb "gray60"
set linetype cycle 9
set yrange [1:*]
plot for [i=2:ncol] dat using i:xtic(1) title columnheader(i)
