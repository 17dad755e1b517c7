#!/bin/sh
# tests/fake-smtpd.py, the stand-in for qmail-smtpd that tests/550 runs
# under tcpserver, against what notqmail's qmail-smtpd.c and received.c
# write: the Received line from tcpserver's environment, the HELO name
# only when it is not the remote host's, safeput()'s "?", rcpthosts and
# RELAYCLIENT, blast()'s dots and line ends, the hop count.
. "${0%/*}/lib.sh"
plan 16

H=$T/qmail
mkdir -p "$H/control" "$H/bin" "$T/q"
echo host.example >"$H/control/me"
printf '# accepted\nhost.example\n.sub.example\n\n' >"$H/control/rcpthosts"
cat >"$H/bin/qmail-queue" <<EOF
#!/bin/sh
exec $PY $TOP/tests/fake-queue.py --out $T/q/\$\$
EOF
chmod 755 "$H/bin/qmail-queue"

# smtpd ENV... -- LINE...: the stand-in with tcpserver's variables ENV,
# the LINEs as the client's (CRLF added); its answers in $T/replies, the
# queue file, if any, in $T/mess and the envelope in $T/env.
smtpd() {
	rm -rf "$T/q/"* "$T/mess" "$T/env"
	_e=''
	while [ "$1" != -- ]; do
		_e="$_e $1"
		shift
	done
	shift
	for _l; do printf '%s\r\n' "$_l"; done >"$T/in"
	# shellcheck disable=SC2086 # K=V words
	env -i $_e "$PY" "$TOP/tests/fake-smtpd.py" --home "$H" <"$T/in" >"$T/replies" 2>&1
	for _d in "$T/q/"*; do
		[ -f "$_d/mess" ] || continue
		cp "$_d/mess" "$T/mess"
		cp "$_d/envelope" "$T/env"
	done
}
# received: the queue file's lines 2 and 3, the date replaced by DATE.
received() {
	sed -n '2,3p' "$T/mess" | sed -E 's/; [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000$/; DATE/'
}
smtpd TCPREMOTEIP=192.0.2.1 TCPREMOTEHOST=mx.example.org TCPLOCALHOST=host.example -- \
	"HELO mx.example.org" "MAIL FROM:<a@b.example>" "RCPT TO:<u@host.example>" DATA \
	"From: a@b.example" "" "hi" "." QUIT
is "$(received)" "Received: from mx.example.org (192.0.2.1)
  by host.example with SMTP; DATE" "HELO the remote host's name, no ident: neither in the line"
is "$(tr -d '\r' <"$T/replies" | sed 's/ok [0-9]* qp [0-9]*$/ok N qp N/')" "220 host.example ESMTP
250 host.example
250 ok
250 ok
354 go ahead
250 ok N qp N
221 host.example" "the answers qmail-smtpd gives, greeting from control/me"
is "$(sed -n 1p "$T/mess" | sed 's/[0-9][0-9]*/N/g')" "Received: (qmail N invoked by uid N); N Dec N N:N:N -N" \
	"qmail-queue's line first"
is "$(sed -n 's/.* qp //p' "$T/replies" | tr -d '\r')" "$(sed -n 's/^Received: (qmail \([0-9]*\) .*/\1/p' "$T/mess")" \
	"qp is qmail-queue's pid"

smtpd TCPREMOTEIP=192.0.2.1 TCPREMOTEHOST=mx.example.org TCPLOCALIP=192.0.2.2 TCPREMOTEINFO='bo;b' -- \
	"EHLO MX.Example.ORG" "MAIL FROM:<a@b.example>" "RCPT TO:<u@host.example>" DATA "" "x" "."
is "$(received)" "Received: from mx.example.org (bo?b@192.0.2.1)
  by 192.0.2.2 with SMTP; DATE" "HELO in other case: left out; the ident answer through safeput; TCPLOCALIP"

smtpd TCPREMOTEIP=127.0.0.1 -- "HELO bad;name<x>" "MAIL FROM:<a@b.example>" "RCPT TO:<u@host.example>" DATA "" "x" "."
is "$(received)" "Received: from unknown (HELO bad?name?x?) (127.0.0.1)
  by unknown with SMTP; DATE" "no TCPREMOTEHOST: unknown, and the HELO name written with ? for unsafe bytes"

smtpd TCPREMOTEIP=127.0.0.1 -- "HELO x" "MAIL FROM:<a@b.example>" "RCPT TO:<r@example.net>" \
	"RCPT TO:<r@deep.sub.example>" "RCPT TO:<r@sub.example>" "RCPT TO:<r@HOST.example>" QUIT
is "$(tr -d '\r' <"$T/replies" | sed -n '4,7p')" "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)
250 ok
553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)
250 ok" "rcpthosts: another domain refused, .sub.example takes its subdomains only, case does not matter"
ok "  and nothing queued without DATA" test ! -e "$T/mess"

smtpd TCPREMOTEIP=127.0.0.1 RELAYCLIENT= -- "HELO x" "MAIL FROM:<a@b.example>" "RCPT TO:<r@example.net>" DATA "" "x" "."
is "$(tr -d '\r' <"$T/replies" | sed -n 4p)" "250 ok" "RELAYCLIENT set: any recipient"
is "$(tr '\0' '|' <"$T/env")" "Fa@b.example|Tr@example.net||" "  the envelope as qmail-queue reads it"
smtpd TCPREMOTEIP=127.0.0.1 RELAYCLIENT=@relay -- "HELO x" "MAIL FROM:<a@b.example>" "RCPT TO:<r@example.net>" DATA "" "x" "."
is "$(tr '\0' '|' <"$T/env")" "Fa@b.example|Tr@example.net@relay||" "RELAYCLIENT's value appended to each recipient"

smtpd TCPREMOTEIP=127.0.0.1 -- "HELO x" "MAIL FROM:<a@b.example>" "RCPT TO:<u@host.example>" DATA \
	"Subject: dots" "" "..leading" ".." "a" "."
is "$(sed -n '4,$p' "$T/mess")" "Subject: dots

.leading
.
a" "the data: CRLF to LF, a leading dot taken off"

printf 'HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@host.example>\r\nDATA\r\nbare\nLF\r\n.\r\n' >"$T/in"
env -i "$PY" "$TOP/tests/fake-smtpd.py" --home "$H" <"$T/in" >"$T/replies" 2>&1
is "$(tr -d '\r' <"$T/replies" | tail -n 1)" "451 See https://cr.yp.to/docs/smtplf.html." "a bare LF: 451 and the end"

i=0
set -- "HELO x" "MAIL FROM:<a@b.example>" "RCPT TO:<u@host.example>" DATA
while [ "$i" -lt 99 ]; do
	set -- "$@" "Received: hop $i"
	i=$((i + 1))
done
smtpd TCPREMOTEIP=127.0.0.1 -- "$@" "" "x" "."
is "$(tr -d '\r' <"$T/replies" | tail -n 1 | cut -c1-6)" "250 ok" "99 Received lines: queued"
smtpd TCPREMOTEIP=127.0.0.1 -- "$@" "Delivered-To: one more" "" "x" "."
is "$(tr -d '\r' <"$T/replies" | tail -n 1)" "554 too many hops, this message is looping (#5.4.6)" \
	"100 with a Delivered-To: too many hops"

smtpd TCPREMOTEIP=127.0.0.1 -- "HELO x" "MAIL FROM:<a@b.example>" DATA "NOOP" "VRFY x" "FOO" "RSET" "HELP"
is "$(tr -d '\r' <"$T/replies" | sed -n '4,$p')" "503 RCPT first (#5.5.1)
250 ok
252 send some mail, i'll try my best
502 unimplemented (#5.5.1)
250 flushed
214 notqmail home page: https://notqmail.org" "DATA before RCPT, NOOP, VRFY, an unknown verb, RSET, HELP"
