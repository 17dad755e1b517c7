# bench/plot.gp -- bench.sh's plot: wall time by message size and candidate.
#   gnuplot -e "dat='plot.dat'; png='bench.png'; ncol=13" bench/plot.gp
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
# baseline; qmail-dkim x3 (blues); qmail-dkimc+qmail-dkimd x3 (greens);
# dkimpy, Mail::DKIM; the floors and the start-up (greys)
set linetype 1 lc rgb "black"
set linetype 2 lc rgb "#08519c"
set linetype 3 lc rgb "#3182bd"
set linetype 4 lc rgb "#9ecae1"
set linetype 5 lc rgb "#006d2c"
set linetype 6 lc rgb "#31a354"
set linetype 7 lc rgb "#a1d99b"
set linetype 8 lc rgb "#de2d26"
set linetype 9 lc rgb "#fd8d3c"
set linetype 10 lc rgb "gray30"
set linetype 11 lc rgb "gray55"
set linetype 12 lc rgb "gray80"
set linetype cycle 12
set yrange [1:*]
plot for [i=2:ncol] dat using i:xtic(1) title columnheader(i)
