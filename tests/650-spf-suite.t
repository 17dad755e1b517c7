#!/bin/sh
# 650-spf-suite.t: qmail-dkim-spf against the RFC 7208 test suite that
# pyspf ships (python3-spf's rfc7208-tests.yml.gz), every case run through
# the program with tests/spf-dns.py serving the case's zone on loopback.
# Every case must come out right, with python3-spf and with the sh
# evaluator (-S): the syntax errors, the limits of RFC 7208 4.6.4, the DNS
# timeouts, macros and ptr among them. Explanations (exp=) are not
# compared: neither evaluator fetches them. The pass rates are in the
# TAP diag.
set -u
. "${0%/*}/lib.sh"
suite=/usr/share/doc/python3-spf/rfc7208-tests.yml.gz
[ -r "$suite" ] || skip_all "no $suite (tests/deps.sh installs python3-spf)"
"$PY" -c 'import spf, yaml, dns.message' 2>/dev/null ||
	skip_all "$PY lacks spf, yaml or dnspython (python3-spf, python3-yaml)"
command -v dig >/dev/null 2>&1 || skip_all "no dig (bind9-dnsutils)"
plan 10

spf=$TOP/scripts/qmail-dkim-spf
gzip -dc "$suite" >"$T/suite.yml"
# Cases of this project's own, in the suite's form: an a: or MX host
# whose address lookup times out is a temperror, never "not allowed".
cat >>"$T/suite.yml" <<'EOF'
---
description: Address lookups that time out (qmail-dkim's own cases)
tests:
  own-a-host-timeout:
    spec: 4.4/2, 5.3
    helo: mail.example.test
    host: 192.0.2.1
    mailfrom: a@a.example.test
    result: temperror
  own-mx-host-timeout:
    spec: 4.4/2, 5.4
    helo: mail.example.test
    host: 192.0.2.1
    mailfrom: a@mx.example.test
    result: temperror
  own-mx-host-after-match:
    spec: 4.6.2
    helo: mail.example.test
    host: 192.0.2.1
    mailfrom: a@ok.example.test
    result: pass
zonedata:
  a.example.test:
    - TXT: v=spf1 a:slow.example.test -all
  mx.example.test:
    - TXT: v=spf1 mx -all
    - MX: [0, slow.example.test]
  ok.example.test:
    - TXT: v=spf1 ip4:192.0.2.1 mx -all
    - MX: [0, slow.example.test]
  slow.example.test:
    - TIMEOUT
EOF
"$PY" "$TOP/tests/spf-dns.py" "$T/suite.yml" "$T/ports" 2>"$T/dns.err" &
kill_at_exit $!
i=0
until grep -q '^ready$' "$T/ports" 2>/dev/null; do
	[ "$i" -lt 100 ] || break
	sleep 0.1
	i=$((i + 1))
done
if grep -q '^ready$' "$T/ports" 2>/dev/null; then pass "the stand-in resolver serves the suite's zones"; else
	fail "the stand-in resolver serves the suite's zones"
	diag "$(cat "$T/dns.err")"
	exit 1
fi

# count VERDICT FILE: how many cases got VERDICT.
count() { grep -a -c "^$1 " "$2" || :; }
# rate NAME FILE: the pass rate over the suite's cases, then over ours.
rate() {
	grep -a -v '^[a-z]* [0-9]*/own-' "$2" >"$2.suite" || :
	grep -a '^[a-z]* [0-9]*/own-' "$2" >"$2.own" || :
	diag "$1: RFC 7208 suite: $(count right "$2.suite") of $(wc -l <"$2.suite") cases right;" \
		"  and $(count right "$2.own") of $(wc -l <"$2.own") of this project's own"
}
# wrong FILE: the cases that came out wrong, as diag lines.
wrong() { grep -a '^wrong ' "$1" | sed 's/^/  /' >&2 || :; }

# --- python3-spf ----------------------------------------------------------------
"$PY" "$TOP/tests/spf-suite.py" "$T/suite.yml" "$T/ports" 4 sh "$spf" -t 1 >"$T/py" 2>"$T/py.err"
is "$(wc -l <"$T/py")" "$(grep -a -c '^  [a-z0-9-]*:$' "$T/suite.yml")" "python3-spf: every case of the suite was run"
rate "python3-spf" "$T/py"
is "$(count wrong "$T/py")$(count skipped "$T/py")" 00 "python3-spf: every case right"
wrong "$T/py"
"$spf" -s 127.0.0.1:1 -t 1 192.0.2.1 example.com >"$T/one" 2>&1 || :
is "$(sed -n 2p "$T/one")" "evaluator: python3-spf" "python3-spf: the second line names the evaluator"

# --- the sh evaluator --------------------------------------------------------------
"$PY" "$TOP/tests/spf-suite.py" "$T/suite.yml" "$T/ports" 4 sh "$spf" -S -t 1 >"$T/sh" 2>"$T/sh.err"
is "$(wc -l <"$T/sh")" "$(wc -l <"$T/py")" "sh: every case of the suite was run"
rate "sh evaluator (-S)" "$T/sh"
is "$(count wrong "$T/sh")$(count skipped "$T/sh")" 00 "sh: every case right"
wrong "$T/sh"
for c in 13/hello-macro 13/macro-mania-in-domain 13/macro-multiple-delimiters \
	13/p-macro-multiple 13/trailing-dot-domain 5/ptr-match-ip6 5/ptr-nomatch-invalid \
	14/ptr-limit 14/mech-at-limit; do
	grep -a -q "^right $c " "$T/sh" || echo "$c"
done >"$T/missed"
is "$(cat "$T/missed")" "" "sh: macros and ptr are evaluated"
# The cases a receiver judges on the record's syntax, the limits and DNS
# failures: every one right.
is "$(grep -a -E '^[a-z]+ [0-9]+/[^ ]+ expected=(permerror|temperror) ' "$T/sh" | grep -c -v '^right ')" 0 \
	"sh: every case whose only right answer is permerror or temperror is right"
for c in 0/badip4 3/redirect-is-modifier 4/all-cidr 10/cidr4-33 12/redirect-twice \
	12/redirect-empty-domain 14/void-over-limit 14/mx-limit 6/a-bad-cidr4 1/alltimeout \
	16/own-a-host-timeout 16/own-mx-host-timeout; do
	grep -a -q "^right $c " "$T/sh" || echo "$c"
done >"$T/missed"
is "$(cat "$T/missed")" "" "sh: the hand-typed errors (junk in ip4:, /33, redirect:, two redirect=, a bad all), the void and MX limits and timeouts are right"
"$spf" -S -s 127.0.0.1:1 -t 1 192.0.2.1 example.com >"$T/one" 2>&1 || :
is "$(sed -n 2p "$T/one")" "evaluator: sh (explanations, exp=, are not fetched)" \
	"sh: the second line says what it does not evaluate"
