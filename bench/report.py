#!/usr/bin/python3
"""report.py RAW RSA_PER_S ED_PER_S PLOTDAT RUNS RUNS_BIG [RESIDENT]:
bench.sh's table.

RAW has one line per measured run:
    LABEL BYTES CANDIDATE ROUND WALL_MS CPU_MS RSS_KB OTHER_RSS_KB OK EXTRA
LABEL is the size as given (2K, 10M) or concN for N deliveries at once;
EXTRA is bodyhash's time inside dkim_body, or for qmail-dkimc+qmail-dkimd
the daemon's CPU (already in CPU_MS).  RESIDENT has one line per daemon
process: NAME PID parent|worker VMHWM_KB VMRSS_KB PSS_KB.  Prints the table
(medians) and writes PLOTDAT, wall times by size and candidate, for
bench/plot.gp.
"""
import statistics
import sys

NAMES = {
    "baseline": "baseline (no signing)",
    "qdkim-rsa": "qmail-dkim RSA-2048",
    "qdkim-ed25519": "qmail-dkim Ed25519",
    "qdkim-both": "qmail-dkim RSA+Ed25519",
    "dkimd-rsa": "qmail-dkimc+qmail-dkimd RSA-2048",
    "dkimd-ed25519": "qmail-dkimc+qmail-dkimd Ed25519",
    "dkimd-both": "qmail-dkimc+qmail-dkimd RSA+Ed",
    "dkimpy": "dkimpy",
    "maildkim": "Mail::DKIM",
    "sha256": "floor: openssl dgst -sha256",
    "body": "libopendkim body alone",
    "start": "start-up only, linked as q-d",
}
ORDER = list(NAMES)
SIGNERS = [c for c in ORDER if c.startswith(("qdkim", "dkimd"))]
DAEMON_MAX = 1 << 20  # qmail-dkimc hands larger messages to qmail-dkim
W = 33  # the candidate column


def human(n):
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return "%d %s" % (round(n / size), unit)
    return "%d B" % n


def num(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x


def main():
    raw, rsa_per_s, ed_per_s, plotdat, runs, runs_big = sys.argv[1:7]
    resident = sys.argv[7] if len(sys.argv) > 7 else None
    rsa_ms, ed_ms = 1000 / float(rsa_per_s), 1000 / float(ed_per_s)
    sign_ms = {"qdkim-ed25519": ed_ms, "qdkim-both": rsa_ms + ed_ms,
               "dkimd-ed25519": ed_ms, "dkimd-both": rsa_ms + ed_ms}

    runs_of = {}  # (label, candidate) -> list of rows of numbers
    labels, nbytes = [], {}
    with open(raw) as f:
        for line in f:
            label, size, cand, _, *vals = line.split()
            if label not in labels:
                labels.append(label)
            nbytes[label] = int(size)
            runs_of.setdefault((label, cand), []).append([float(v) for v in vals])

    def med(label, cand, i):
        rows = runs_of.get((label, cand))
        return statistics.median(r[i] for r in rows) if rows else None

    sizes = [s for s in labels if not s.startswith("conc")]
    print("Medians of the runs (%s), candidates interleaved round-robin in a "
          "rotating order." % ", ".join(
              "%s: %d" % (human(nbytes[s]), len(runs_of[(s, "baseline")]))
              for s in sizes if (s, "baseline") in runs_of))
    print("wall: fork of the candidate to its last report byte, every process "
          "it made reaped.  CPU: user+system")
    print("of all those processes, qmail-dkim's detached writer (reparented to "
          "the launcher, a subreaper) included.")
    print("RSS: peak of the process started (the signer, then the stand-in "
          "qmail-remote it execs; Linux keeps")
    print("the peak across exec).  other: peak RSS of its other processes "
          "(the writer), summed.")
    print("floor = sha256 of the file (openssl dgst: a whole process) + the "
          "signatures made, from openssl speed:")
    print("RSA-2048 %.3f ms, Ed25519 %.3f ms each; for small messages it is "
          "mostly the start of openssl(1)." % (rsa_ms, ed_ms))
    print("The stand-in qmail-remote reads the message and says K.  start-up "
          "only: a program linked as")
    print("qmail-dkim (libopendkim, libcrypto; bench/phases.c -x) that exits "
          "in main, started the same way.")
    print("qmail-dkimc+qmail-dkimd: qmail-dkimc is started, qmail-dkimd (-n 2, "
          "started once, warm) signs; its")
    print("CPU column adds the daemon's CPU for the delivery (shown apart as "
          "\"daemon\"); its RSS is qmail-dkimc's")
    print("(then the stand-in's); the daemon's own memory, resident once for "
          "all deliveries, is below.  Over")
    print("1 MiB qmail-dkimc execs qmail-dkim instead: at 10 MB and 100 MB "
          "that row is qmail-dkim + one small exec.")
    print("+ms: wall minus the baseline's wall at that size.")
    print()
    head = "%-8s %-*s %9s %7s %9s %7s %8s %7s %7s" % (
        "size", W, "candidate", "wall ms", "+ms", "CPU ms", "RSS MB",
        "other MB", "x base", "x floor")
    print(head)
    print("-" * len(head))
    for s in sizes:
        base = med(s, "baseline", 0)
        sha = med(s, "sha256", 0)
        first = True
        for c in ORDER:
            wall = med(s, c, 0)
            if wall is None:
                continue
            floor = sha + sign_ms.get(c, rsa_ms) if sha is not None else None
            other = med(s, c, 3)
            note = ""
            if c == "body":
                note = "  (inside dkim_body: %s ms)" % num(med(s, c, 5))
            if c.startswith("dkimd"):
                note = ("  (daemon: %s ms CPU)" % num(med(s, c, 5))
                        if nbytes[s] <= DAEMON_MAX else "  (fell back to qmail-dkim)")
            plus = "-" if c == "baseline" or base is None else "%+.1f" % (wall - base)
            print("%-8s %-*s %9s %7s %9s %7.1f %8s %7s %7s%s" % (
                human(nbytes[s]) if first else "", W, NAMES[c], num(wall), plus,
                num(med(s, c, 1)), med(s, c, 2) / 1024,
                "%.1f" % (other / 1024) if other else "-",
                "%.2f" % (wall / base) if base else "-",
                "%.2f" % (wall / floor) if floor else "-", note))
            first = False
        print("%-8s %-*s %9s   (openssl speed)" % ("", W, "floor: RSA-2048 signature",
                                                   num(rsa_ms)))
        print()

    for label in (x for x in labels if x.startswith("conc")):
        n = label[4:]
        rows = runs_of[(label, "baseline")]
        print("%s deliveries of %s at once, started together (medians of %d "
              "runs):" % (n, human(nbytes[label]), len(rows)))
        head = "%-*s %13s %11s %16s %12s" % (
            W, "candidate", "total wall ms", "CPU ms", "sum peak RSS MB",
            "+ other MB")
        print(head)
        print("-" * len(head))
        for c in ("baseline", "qdkim-rsa", "dkimd-rsa"):
            if (label, c) not in runs_of:
                continue
            print("%-*s %13s %11s %16.1f %12.1f" % (
                W, NAMES[c], num(med(label, c, 0)), num(med(label, c, 1)),
                med(label, c, 2) / 1024, med(label, c, 3) / 1024))
        if (label, "dkimd-rsa") in runs_of and nbytes[label] > DAEMON_MAX:
            print("(%s is over 1 MiB: every qmail-dkimc there execs qmail-dkim, "
                  "which signs; the daemon idles)" % human(nbytes[label]))
        print()

    daemons = {}  # name -> [(kind, hwm_kb, rss_kb)]
    if resident:
        with open(resident) as f:
            for line in f:
                name, _, kind, hwm, _, pss = line.split()
                daemons.setdefault(name, []).append((kind, int(hwm), int(pss)))
    if daemons:
        print("qmail-dkimd, resident once for all the deliveries above: peak "
              "RSS (VmHWM) of each process at the end;")
        print("PSS in all: the daemon's processes' proportional set size, each "
              "shared page split among the processes")
        print("mapping it (workers and parent share their libraries and "
              "heap copy; the 3 daemons here share libcrypto)")
        for name, procs in daemons.items():
            par = [h for k, h, _ in procs if k == "parent"]
            wrk = [h for k, h, _ in procs if k == "worker"]
            print("  %-*s parent %.1f MB, %d workers %s MB; PSS %.1f MB in all" % (
                W, NAMES[name], par[0] / 1024 if par else 0, len(wrk),
                " + ".join("%.1f" % (h / 1024) for h in wrk),
                sum(p for _, _, p in procs) / 1024))
        print()

    print("Against the performance targets:")
    small, large = sizes[0], sizes[-1]
    if nbytes[small] <= 4096 and med(small, "baseline", 0) is not None:
        bw, bc = med(small, "baseline", 0), med(small, "baseline", 1)
        print("  %s, added to the baseline (%s ms wall, %s ms CPU); target: "
              "3 ms at most:" % (human(nbytes[small]), num(bw), num(bc)))
        for c in SIGNERS:
            w = med(small, c, 0)
            if w is None:
                continue
            print("    %-*s %+6.1f ms wall  %+6.1f ms CPU  %s" % (
                W, NAMES[c], w - bw, med(small, c, 1) - bc,
                "met" if w - bw <= 3 else "not met"))
    b, bw = med(large, "body", 5), med(large, "body", 0)
    for c in ("qdkim-rsa", "dkimd-rsa"):
        q = med(large, c, 0)
        if q is None or not b:
            continue
        print("  %s: %s %s ms = %.2f x libopendkim's time inside "
              "dkim_body (%s ms; target: 1.15 x)" % (
                  human(nbytes[large]), NAMES[c], num(q), q / b, num(b)))
        print("  %s  and %.2f x the whole bodyhash process (%s ms: start-up, "
              "reading, LF to CRLF included)" % (" " * len(human(nbytes[large])),
                                                 q / bw, num(bw)))
    peak = max((med(s, c, 2), s, c) for s in sizes for c in SIGNERS
               if med(s, c, 2) is not None)
    wpeak = max(med(s, c, 3) for s in sizes for c in SIGNERS
                if med(s, c, 3) is not None)
    print("  peak RSS of a delivery: %.1f MB at most (%s, %s); the writer: "
          "%.1f MB at most (target: below 8 MB)" % (
              peak[0] / 1024, human(nbytes[peak[1]]), NAMES[peak[2]], wpeak / 1024))
    if daemons:
        print("  qmail-dkimd worker peak RSS: %.1f MB at most (resident, shared "
              "by all deliveries)" % (max(h for p in daemons.values()
                                          for k, h, _ in p if k == "worker") / 1024))
    for alt in ("dkimpy", "maildkim"):
        for c in ("qdkim-rsa", "dkimd-rsa"):
            ratios = ["%s %.1f x" % (human(nbytes[s]), med(s, alt, 0) / med(s, c, 0))
                      for s in sizes
                      if med(s, alt, 0) is not None and med(s, c, 0) is not None]
            if ratios:
                print("  %s is faster than %s by: %s" % (
                    NAMES[c], NAMES[alt], ", ".join(ratios)))

    with open(plotdat, "w") as f:
        f.write("size " + " ".join('"%s"' % NAMES[c] for c in ORDER) + "\n")
        for s in sizes:
            vals = [med(s, c, 0) for c in ORDER]
            f.write('"%s" ' % human(nbytes[s]) +
                    " ".join("?" if v is None else "%.3f" % v for v in vals) + "\n")


if __name__ == "__main__":
    main()
