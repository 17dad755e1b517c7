#!/usr/bin/python3
"""median.py < LINES: per label, the median of every KEY=NUMBER field.

Input lines are "LABEL KEY=NUMBER KEY=NUMBER ..."; a label may come many
times (one line per run).  Output: one line per label, in the order the
labels first came, with the medians and the number of runs.
"""
import statistics
import sys


def main():
    runs = {}
    for line in sys.stdin:
        label, *fields = line.split()
        runs.setdefault(label, []).append(dict(f.split("=", 1) for f in fields))
    width = max((len(x) for x in runs), default=0)
    for label, rows in runs.items():
        keys = list(rows[0])
        print("%-*s %s  (n=%d)" % (width, label, " ".join(
            "%s=%.0f" % (k, statistics.median(float(r[k]) for r in rows))
            for k in keys), len(rows)))


if __name__ == "__main__":
    main()
