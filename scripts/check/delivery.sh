# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: a test signature, made and verified as a receiver would.

# have_dkimpy: /usr/bin/python3 has dkimpy to verify a signature with.
have_dkimpy() {
	[ -x /usr/bin/python3 ] && [ -n "$(/usr/bin/python3 -c 'import importlib.util as u; print(u.find_spec("dkim") and 1 or "")' 2>/dev/null)" ]
}

# make_sample: the test message, in $work/sample, made once.
make_sample() {
	[ ! -f "$work/sample" ] || return 0
	now=$(LC_ALL=C date '+%a, %d %b %Y %H:%M:%S %z')
	# "from network", from another host (qmail-smtpd's line, notqmail
	# received.c): control/dkimrights lets such mail sign for its
	# envelope sender's domain, so the test signs whoever runs the check
	cat >"$work/sample" <<EOF
Received: (qmail $$ invoked from network); $now
Received: from check.example.net (HELO check) (192.0.2.1)
  by $domain with SMTP; $now
From: $prog <postmaster@$domain>
To: <check@example.net>
Subject: $prog test message
Date: $now
Message-ID: <$(date +%s).$$.check@$domain>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

This message was signed by qmail-dkim and never sent.
.
A line with a dot, and trailing blanks   
EOF
	chmod 0644 "$work/sample"
}

# scratch_home DIR: a scratch qmail home for a test delivery, in $h: its
# control is the real one, and its bin/qmail-remote.orig keeps what it is
# given in $h/out/message and reports success.
scratch_home() {
	h=$1
	mkdir "$h" "$h/bin" "$h/out"
	ln -s "$abshome/control" "$h/control"
	cat >"$h/bin/qmail-remote.orig" <<EOF
#!/bin/sh
cat >"$h/out/message" || exit 111
printf 'r\\0Kok\\n\\0'
EOF
	chmod 0755 "$h/bin/qmail-remote.orig"
	cp "$h/bin/qmail-remote.orig" "$h/bin/qmail-remote"
	chmod 0755 "$h" "$h/bin" "$work"
	if [ "$myuid" -eq 0 ]; then
		chown "$user" "$h/out"
	fi
}

# test_delivery PROGRAM: run PROGRAM in $h on the sample as qmail-rspawn
# runs qmail-remote, as $user when root can: bare environment, umask 077,
# the message a seekable file on fd 0, fd 2 a copy of fd 1. Sets $rc, and
# $report and $shown, the report with | for each NUL.
test_delivery() {
	set -- "$1" example.net "$sender" check@example.net
	if [ "$myuid" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && id -u "$user" >/dev/null 2>&1; then
		set -- setpriv --reuid="$user" --regid="$group" --clear-groups -- "$@"
	fi
	rc=0
	(
		cd "$h"
		umask 077
		exec env - PATH=/usr/bin:/bin QMAILDKIM_HOME="$h" "$@" <"$work/sample"
	) >"$work/report" 2>&1 || rc=$?
	report=$(tr '\000\n' '| ' <"$work/report")
	# $h/control is a link to the real control: name the real files.
	shown=$(printf '%s\n' "$report" | awk -v a="$h/control" -v b="$abshome/control" '{
		sub(/[| ]*$/, "")
		out = ""
		while ((i = index($0, a))) {
			out = out substr($0, 1, i - 1) b
			$0 = substr($0, i + length(a))
		}
		print out $0
	}')
}

# reported_k: $report is the stand-in's own r and K, with or without the
# DKIM note that qmail-dkim puts into K (control/dkimreport).
reported_k() {
	case $report in
	'r|Kok |' | 'r|Kok DKIM signed '*' |' | 'r|Kok DKIM not signed: '*' |') return 0 ;;
	esac
	return 1
}

# Let qmail-dkim sign a sample message in a scratch qmail home whose
# qmail-remote.orig keeps what it is given, then verify that copy as the
# receiver will see it, with the key in DNS.
check_signature() {
	if [ -z "$bin" ]; then
		for b in "$home/bin/qmail-dkim" "${PREFIX:-/usr/local}/bin/qmail-dkim"; do
			if [ -x "$b" ]; then
				bin=$b
				break
			fi
		done
	fi
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		warn "signature: no qmail-dkim binary${bin:+ at $bin}, so no test signature"
		fix "install qmail-dkim, or name it with -b BINARY"
		return 0
	fi
	if ! have_dkimpy; then
		warn "signature: no dkimpy to verify a test signature with"
		fix "apt-get install python3-dkim python3-nacl"
		return 0
	fi
	scratch_home "$work/home"
	make_sample
	test_delivery "$bin"
	if [ "$rc" -ne 0 ]; then
		fail "signature: $bin exited $rc (qmail bounces mail on any status but 0 and 111); it said: $shown"
		return 0
	fi
	if ! reported_k; then
		case $report in
		Z* | D*) fail "signature: qmail-dkim refused the test message: ${shown#?}" ;;
		*) fail "signature: qmail-dkim's report is not qmail-remote's: $shown" ;;
		esac
		fix "see qmail-dkim(8); the same happens to real mail"
		return 0
	fi
	if [ ! -f "$h/out/message" ]; then
		fail "signature: qmail-dkim did not pass the message to qmail-remote"
		return 0
	fi
	nsig=$(grep -c -i '^DKIM-Signature:' "$h/out/message" || :)
	if [ "$nsig" -eq 0 ]; then
		fail "signature: qmail-dkim passed the message on unsigned"
		fix "see qmail-dkim(8)"
		return 0
	fi
	verify_kept signature qmail-dkim
}

# verify_kept LABEL SIGNER: verify each signature of $h/out/message as the
# receiver will see it, against the records found above; one line each,
# which starts with LABEL and says SIGNER made it.
verify_kept() {
	label=$1 signer=$2
	# What qmail-remote sends: each LF becomes CRLF.
	sed 's/$/\r/' "$h/out/message" >"$work/wire"
	# Each selector's record: the one in DNS, else the key's own.
	set -- "$work/wire"
	for sel in $selectors; do
		if [ -f "$work/rec.$sel" ]; then
			set -- "$@" "$sel._domainkey.$kdomain" "$work/rec.$sel"
		elif [ -f "$work/want.$sel" ]; then
			set -- "$@" "$sel._domainkey.$kdomain" "$work/want.$sel"
		fi
	done
	/usr/bin/python3 - "$@" >"$work/verify" 2>&1 <<'EOF' || :
import sys
import types

# dkimpy's own DNS module pulls in dnspython and httpx, most of a second
# to start; the records come from the caller, so stand in for it.
stub = types.ModuleType('dkim.dnsplug')
stub.get_txt = lambda name, timeout=5: None
sys.modules['dkim.dnsplug'] = stub
import dkim  # noqa: E402

records = {}
for i in range(2, len(sys.argv), 2):
    records[sys.argv[i].lower()] = open(sys.argv[i + 1], 'rb').read().strip()


def dnsfunc(qname, timeout=5):
    if isinstance(qname, bytes):
        qname = qname.decode()
    return records.get(qname.rstrip('.').lower())


msg = open(sys.argv[1], 'rb').read()
d = dkim.DKIM(msg)
n = sum(1 for line in msg.split(b'\r\n\r\n', 1)[0].split(b'\r\n')
        if line.lower().startswith(b'dkim-signature:'))
for idx in range(n):
    d = dkim.DKIM(msg)
    try:
        verdict, why = ('pass' if d.verify(idx=idx, dnsfunc=dnsfunc) else 'fail'), ''
    except Exception as e:
        verdict, why = 'error', str(e).replace('\n', ' ').replace('\t', ' ')
    f = getattr(d, 'signature_fields', None) or {}
    print('\t'.join([f.get(k, b'').decode(errors='replace') for k in (b'd', b's', b'a', b'c')]
                    + [verdict, why or '-']))
EOF
	nsig=0
	while IFS='	' read -r sd ss sa sc verdict why; do
		case $verdict in
		pass | fail | error) ;;
		*)
			fail "$label: the verifier failed: $(tr '\n' ' ' <"$work/verify")"
			return 0
			;;
		esac
		nsig=$((nsig + 1))
		tags="a=$sa c=$sc"
		case " $selectors " in
		*" $ss "*) ;;
		*) ss="$ss (not listed)" ;;
		esac
		if [ "$sd" != "$kdomain" ] || [ "${ss% (not listed)}" != "$ss" ]; then
			fail "$label: $signer signed with d=$sd s=$ss, but the key found above is d=$kdomain s=$selectors"
			fix "report this as a bug of $signer or $prog"
			continue
		fi
		if [ -f "$work/good.$ss" ]; then
			from="the DNS record"
		elif [ -f "$work/rec.$ss" ]; then
			from="the DNS record as dkimpy reads it, which has the fault named above"
		elif [ -f "$work/dnsfail.$ss" ]; then
			from="the local public key (the DNS lookup failed, so the published record was not tried)"
		else
			from="the local public key (nothing in DNS yet)"
		fi
		if [ "$verdict" = pass ]; then
			if [ -f "$work/good.$ss" ]; then
				ok "$label: $signer's test signature verifies with $from (d=$sd s=$ss $tags)"
			elif [ -f "$work/rec.$ss" ]; then
				warn "$label: $signer's test signature verifies with $from, for which receivers may fail it (d=$sd s=$ss $tags)"
				fix "publish the record the dns: line's fix gives, then run $prog again"
			elif [ -f "$work/dnsfail.$ss" ]; then
				warn "$label: $signer's test signature verifies with $from (d=$sd s=$ss $tags)"
				fix "make the DNS of $kdomain answer (see the dns: line above), then run $prog again"
			else
				warn "$label: $signer's test signature verifies with $from (d=$sd s=$ss $tags)"
				fix "publish the DKIM record shown above, then run $prog again"
			fi
			continue
		fi
		[ "$why" != - ] || why="bad signature"
		fail "$label: $signer's test signature does not verify with $from: $why (d=$sd s=$ss $tags)"
		if [ -f "$work/rec.$ss" ] && [ ! -f "$work/good.$ss" ]; then
			fix "publish the record $kg -p $kdomain $ss prints"
		else
			fix "the signature itself is wrong: see $signer(8)"
		fi
	done <"$work/verify"
	# shellcheck disable=SC2086 # selectors are words, checked above
	set -- $selectors
	if [ "$nsig" -ne $# ]; then
		fail "$label: $signer added $nsig signature(s), but $kdomain has $# selector(s): $selectors"
		fix "see $signer(8)"
	fi
}
