#!/bin/sh
# 296-logsum.t: qmail-dkim-logsum over a generated qmail-send log, in the
# line formats of notqmail's qmail-send.c (commit a7012e4): "new msg M"
# (line 1320), "info msg M: bytes B from <S> qp P uid U" (1354-1362),
# "starting delivery N: msg M to remote|local R" (861-864), "status:
# local L/C remote R/C" (792-800), "delivery N: success|deferral|failure:
# TEXT" (927-941), "end msg M" (1170); TEXT as qsutil.c logsafe() writes
# qmail-remote's report (qmail-rspawn's first record and the message
# record, space and % made _, newline /), with the DKIM note qmail-dkim
# puts before the report's last newline (relay.c, tests/350) or its own
# deferral "qmail-dkim: WHY. (#4.3.0)". The same log in multilog's form
# (TAI64N), in syslog's through splogger (its stamp, and its + lines
# past 799 bytes: splogger.c flush()), and plain; deliveries interleaved,
# messages whose start is in an earlier log, a report qmail-send could not
# read (line 947), a restart ("status: exiting", line 1609) after which
# the deliveries are numbered from 1 again. The counts per domain and
# reason are the generator's own.
set -u
. "${0%/*}/lib.sh"
plan 8
L=$TOP/scripts/qmail-dkim-logsum

"$PY" - "$T" <<'EOF'
import random, sys
T = sys.argv[1]
rnd = random.Random(17)
def logsafe(s):
    return "".join("/" if c == "\n" else c if 33 <= ord(c) <= 126 and c != "%" else "_" for c in s)
reasons = ["no key for the From: or envelope domain",
           "control/dkimrights does not let uid 1005 sign as b.example",
           "header larger than 1 MB"]
defers = ["the key /var/qmail/control/domainkeys/a.example/s1 is world-writable: anyone could replace it",
          "control/dkimrights line 3: Foo is not a user name, a uid or @group"]
senders = ["alice@a.example", "Bob@B.Example", "", "#@[]", "carol@c.example", "dave@sub.a.example"]
lines = []          # (time, creation order, text): sorted at the end
expect = {}         # (domain, counter) -> count
S0, S1 = 1765000000, 1765000000 + 3000   # the period asked for in the second run
exp2 = {}
def count(e, d, k):
    e[(d, k)] = e.get((d, k), 0) + 1
def ev(t, x):
    lines.append((t, len(lines), x))
base = 1765000000 - 1000
msg, dl, last = 100, 0, 0
for i in range(400):
    base += rnd.randint(1, 20)
    if i == 201:        # qmail-send restarts, and numbers deliveries from 1 again
        t = max(last, base) + 1
        dl += 1
        ev(t, "starting delivery {%d}: msg %d to remote lost@example.net" % (dl, msg))
        ev(t, "status: exiting")
        dl = 0
        base = t + 1
    t = base
    msg += 1
    s = rnd.choice(senders)
    dom = "<>" if s == "" else s if s == "#@[]" else s.split("@")[1].lower()
    ev(t, "new msg %d" % msg)
    early = rnd.random() < 0.05     # its info line was in an earlier log
    if not early:
        ev(t, "info msg %d: bytes %d from <%s> qp %d uid %d" % (msg, rnd.randint(300, 9000), s, 4000 + i, 1000 + i % 5))
    else:
        dom = "?"
    mend = t
    for r in range(rnd.randint(1, 3)):
        dl += 1
        t0 = t + rnd.randint(0, 3)
        remote = rnd.random() < 0.85
        ev(t0, "starting delivery {%d}: msg %d to %s r%d@example.net" % (dl, msg, "remote" if remote else "local", r))
        ev(t0, "status: local 0/10 remote 1/20")
        # a slow remote end: other messages' lines come in between
        t1 = t0 + rnd.randint(0, 90)
        mend = max(mend, t1)
        kind = rnd.choice("SSSSUUZDNM")
        if not remote:
            ev(t1, "delivery {%d}: success: did_1+0+1/" % dl)
            continue
        res, rec0 = rnd.choice([("success", "r"), ("success", "r"), ("deferral", "r"), ("failure", "h")])
        remote_text = {"success": "K192.0.2.1 accepted message.\nRemote host said: 250 ok %d qp 77" % t1,
                       "deferral": "Z192.0.2.1 does not like recipient.\nRemote host said: 451 try 100% later",
                       "failure": "DGiving up on 192.0.2.1."}[res]
        if rnd.random() < 0.05:
            remote_text += " " + "x" * 900     # past splogger's 799 bytes
        first = "" if rec0 == "r" else "192.0.2.1 does not like recipient.\nRemote host said: 550 no\n"
        why = ""
        if kind == "S":
            note = " DKIM signed d=%s s=s1,e1" % (dom if dom not in ("<>", "#@[]", "?") else "host.example")
        elif kind == "U":
            why = rnd.choice(reasons)
            note = " DKIM not signed: " + why
        elif kind == "Z":
            why = rnd.choice(defers)
            res = "deferral"
        else:
            note = ""
        if kind == "M":     # qmail-send.c line 947
            ev(t1, "delivery {%d}: report mangled, will defer" % dl)
            for e, on in ((expect, True), (exp2, S0 <= t1 < S1)):
                if on:
                    count(e, dom, "deliveries"); count(e, dom, "deferral"); count(e, dom, "nonote")
            continue
        if kind == "Z":
            text = "qmail-dkim: %s. (#4.3.0)\n" % why
        else:
            text = first + remote_text[1:] + note + "\n"
        ev(t1, "delivery {%d}: %s: %s" % (dl, res, logsafe(text)))
        for e, on in ((expect, True), (exp2, S0 <= t1 < S1)):
            if not on:
                continue
            count(e, dom, "deliveries")
            count(e, dom, res)
            if kind == "S": count(e, dom, "signed")
            elif kind == "U": count(e, dom, "unsigned"); count(e, dom, "unsigned: " + why.replace("_", " "))
            elif kind == "Z": count(e, dom, "qmail-dkim-deferral"); count(e, dom, "qmail-dkim-deferral: " + why)
            else: count(e, dom, "nonote")
    ev(mend, "end msg %d" % msg)
    last = max(last, mend)
# at the edges of the period: a second in or out
for t1 in (S0 - 1, S0, S1 - 1, S1):
    msg += 1
    dl += 1
    ev(t1, "new msg %d" % msg)
    ev(t1, "info msg %d: bytes 400 from <edge@edge.example> qp 1 uid 1000" % msg)
    ev(t1, "starting delivery {%d}: msg %d to remote e@example.net" % (dl, msg))
    ev(t1, "delivery {%d}: success: %s" % (dl, logsafe("192.0.2.1 accepted message.\nRemote host said: 250 ok DKIM signed d=edge.example s=s1\n")))
    ev(t1, "end msg %d" % msg)
    for e, on in ((expect, True), (exp2, S0 <= t1 < S1)):
        if on:
            count(e, "edge.example", "deliveries"); count(e, "edge.example", "success"); count(e, "edge.example", "signed")
lines.sort()
# qmail-send numbers deliveries as it starts them (qmail-send.c del_start
# masterdelid), from 1 again after a restart
import re
num, n, out = {}, 0, []
for t, _, x in lines:
    m = re.search(r"\{(\d+)\}", x)
    if m:
        if x.startswith("starting"):
            n += 1
            num[m.group(1)] = n
        x = x.replace(m.group(0), str(num[m.group(1)]))
    if x == "status: exiting":
        n = 0
    out.append((t, x))
lines = out
# three forms
with open(T + "/current", "w") as f:       # multilog's t: @TAI64N
    for i, (t, x) in enumerate(lines):
        f.write("@%016x%08x %s\n" % (2**62 + 10 + t, (i * 7919) % 10**9, x))
with open(T + "/syslog", "w") as f:        # splogger through a syslog daemon
    for i, (t, x) in enumerate(lines):
        st = "%d.%06d" % (t, (i * 7919) % 10**6)
        x = "".join(c if 32 <= ord(c) <= 126 else "?" for c in x)
        parts = [x[j:j + 799] for j in range(0, len(x), 799)] or [""]
        for j, p in enumerate(parts):
            f.write("Dec  7 09:15:02 mail qmail: %s%s%s\n" % (st, " " if j == 0 else "+", p))
with open(T + "/plain", "w") as f:
    for t, x in lines:
        f.write(x + "\n")
keys = ["deliveries", "success", "deferral", "failure", "signed", "unsigned", "qmail-dkim-deferral", "nonote"]
for name, e in (("expect", expect), ("expect2", exp2)):
    with open(T + "/" + name, "w") as f:
        doms = sorted(set(d for d, k in e))
        for d in doms:
            for k in keys:
                f.write("%s\t%s\t%d\n" % (d, k, e.get((d, k), 0)))
            for (dd, k), n in e.items():
                if dd == d and ":" in k:
                    f.write("%s\t%s\t%d\n" % (d, k, n))
EOF
[ -s "$T/current" ] || bail "the generator wrote nothing"
sort "$T/expect" >"$T/want"
sort "$T/expect2" >"$T/want2"
# same FILE FORM DESC ARGS...: the TSV of qmail-dkim-logsum ARGS on FILE
same() {
	sh "$L" -t "$3" "$4" "$1" 2>"$T/err" | sed 1d | sort >"$T/got" || :
	if cmp -s "$2" "$T/got"; then pass "$5"; else
		fail "$5"
		diff "$2" "$T/got" | head -20 | sed 's/^/  /' >&2
		sed 's/^/  /' "$T/err" >&2
	fi
}
same "$T/current" "$T/want" -s 0 "multilog (TAI64N): the counts per domain and reason"
same "$T/syslog" "$T/want" -s 0 "syslog through splogger, its continuations joined: the same counts"
same "$T/plain" "$T/want" -s 0 "plain lines: the same counts"
for f in current syslog; do
	sh "$L" -t -s 1765000000 -e 1765003000 "$T/$f" | sed 1d | sort >"$T/got"
	is "$(cmp -s "$T/want2" "$T/got" && echo same)" same "-s, -e: only the deliveries of the period ($f)"
done
sh "$L" -j "$T/current" >"$T/json"
ok "-j: JSON that Python reads, with the same counts" "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))["domains"]
want = {}
for l in open(sys.argv[2]):
    d, k, n = l.rstrip("\n").split("\t")
    want[(d, k)] = int(n)
for (d, k), n in want.items():
    if ":" in k:
        kk, r = k.split(": ", 1)
        assert j[d][kk + "-reasons"][r] == n, (d, k, n)
    else:
        assert j[d][k] == n, (d, k, n, j[d][k])
' "$T/json" "$T/want"
# an old host's tools: busybox's sh and awk
if busybox_bin "$T/bb"; then
	PATH=$T/bb "$T/bb/sh" "$L" -t -s 1765000000 -e 1765003000 "$T/syslog" | sed 1d | sort >"$T/got"
	is "$(cmp -s "$T/want2" "$T/got" && echo same)" same "under busybox sh and awk: the same counts"
else
	skip 1 "busybox not installed (tests/deps.sh installs it)"
fi
sh "$L" "$T/current" >"$T/text"
has_line() { grep -q -F -- "$2" "$1"; }
ok "the table names each reason with its count" has_line "$T/text" "not signed: no key for the From: or envelope domain"
