#!/bin/sh
# qmail-dkim-tool does what openssl and dig do for the scripts' options:
# each command is run both ways on this host, and the outputs compared.
# Keys it makes are read by openssl; keys openssl makes (PKCS#8, PKCS#1,
# Ed25519) give the same public key, DER and -text lines; base64 of every
# length from 0 to 99 bytes and of 100 kB is the same; a DNS zone served
# by dnsmasq gives the same status and records, TXT escapes included.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
TOOL=${QDKIMT:-$TOP/qmail-dkim/qmail-dkim-tool}
[ -x "$TOOL" ] || skip_all "qmail-dkim-tool is not built"
plan 31

# --- keys it makes ----------------------------------------------------------
umask 022
for a in RSA ED25519; do
	case $a in
	RSA) run "$TOOL" openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/new.$a" ;;
	*) run "$TOOL" openssl genpkey -algorithm "$a" -out "$T/new.$a" ;;
	esac
	is "$rc" 0 "genpkey $a: exit 0"
	is "$(mode "$T/new.$a" | cut -c1-10)" "-rw-------" "genpkey $a: mode 0600, whatever the umask"
	is "$(sed -n 1p "$T/new.$a")" "-----BEGIN PRIVATE KEY-----" "genpkey $a: PKCS#8 PEM"
	ok "genpkey $a: openssl reads it and finds it sound" \
		sh -c "openssl pkey -in '$T/new.$a' -check -noout >/dev/null 2>&1 ||
			openssl pkey -in '$T/new.$a' -noout"
done
is "$(openssl pkey -in "$T/new.RSA" -noout -text | sed -n 's/.*(\([0-9]*\) bit.*/\1/p')" 1024 \
	"genpkey RSA: the size -pkeyopt asked for"
"$TOOL" openssl genpkey -algorithm RSA -out "$T/new.default"
is "$(openssl pkey -in "$T/new.default" -noout -text | sed -n 's/.*(\([0-9]*\) bit.*/\1/p')" 2048 \
	"genpkey RSA: 2048 bits by default, as openssl"

# --- keys openssl makes: the same answers -------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/rsa8" 2>/dev/null
openssl rsa -in "$T/rsa8" -traditional -out "$T/rsa1" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$T/ed"
both() { # both FILE-OUT ARGS...: the tool's and openssl's output, compared
	_o=$1
	shift
	"$TOOL" openssl "$@" >"$T/$_o.tool" 2>/dev/null
	openssl "$@" >"$T/$_o.ossl" 2>/dev/null
}
for k in rsa8 rsa1 ed; do
	both pub pkey -in "$T/$k" -passin pass: -pubout
	ok "pkey -pubout of openssl's $k key: the same PEM" cmp -s "$T/pub.tool" "$T/pub.ossl"
	both der pkey -pubin -in "$T/pub.ossl" -outform DER
	ok "pkey -pubin -outform DER, $k: the same bytes" cmp -s "$T/der.tool" "$T/der.ossl"
	both txt pkey -in "$T/$k" -passin pass: -pubout -text_pub
	grep -E '^(-----|[A-Za-z0-9+/=]+$|Public-Key|Modulus|ED25519)' "$T/txt.ossl" |
		grep -v '^[0-9a-f:]*$' >"$T/txt.want"
	ok "pkey -pubout -text_pub, $k: the PEM and the lines the scripts read" \
		cmp -s "$T/txt.tool" "$T/txt.want"
	[ -s "$T/txt.tool" ] || diag "$(cat "$T/txt.ossl")"
done
"$TOOL" openssl pkey -in "$T/rsa8" -out "$T/rsa8.copy"
ok "pkey -out: the private key as openssl writes it" sh -c \
	"openssl pkey -in '$T/rsa8' | cmp -s - '$T/rsa8.copy'"
openssl pkey -in "$T/rsa8" -aes128 -passout pass:secret -out "$T/enc" 2>/dev/null
run "$TOOL" openssl pkey -in "$T/enc" -passin pass: -pubout
is "$rc" 1 "an encrypted key: exit 1, as openssl with an empty password"
lacks "$T/out" . "and nothing on stdout"
run "$TOOL" openssl pkey -in "$T/rsa8" -nodes
is "$rc" 1 "an option the scripts do not use: refused"
has "$T/err" "-nodes is not one qmail-dkim-tool knows" "naming it"

# --- base64 ---------------------------------------------------------------------
bad=
for n in $(seq 0 99) 100000; do
	head -c "$n" /dev/urandom >"$T/b"
	a=$("$TOOL" openssl base64 -A <"$T/b" | od -An -c)
	b=$(openssl base64 -A <"$T/b" | od -An -c)
	[ "$a" = "$b" ] || bad="$bad $n"
done
is "$bad" "" "base64 -A: as openssl's for 0 to 99 bytes and 100 kB"
"$TOOL" openssl base64 <"$T/b" >"$T/b64.tool"
openssl base64 <"$T/b" >"$T/b64.ossl"
ok "base64: as openssl's, in lines of 64" cmp -s "$T/b64.tool" "$T/b64.ossl"

# --- dig ------------------------------------------------------------------------
{
	echo "local=/example.test/"
	printf '%s\n' 'txt-record=s1._domainkey.example.test,"v=DKIM1; k=rsa; p=abc","def\"q\\x;"'
	echo 'txt-record=example.test,"v=spf1 ip4:192.0.2.25 -all"'
	echo 'txt-record=example.test,"second record"'
	echo 'txt-record=_dmarc.example.test,"v=DMARC1; p=none"'
	echo "address=/mx.example.test/192.0.2.26"
	echo "mx-host=example.test,mx.example.test,10"
	echo "ptr-record=25.2.0.192.in-addr.arpa,host.example.test"
	echo "host-record=v6.example.test,2001:db8::1"
	echo "cname=alias.example.test,mx.example.test"
} >"$T/dns.conf"
start_dns 7231
set -- s1._domainkey.example.test TXT example.test TXT example.test MX \
	mx.example.test A 25.2.0.192.in-addr.arpa PTR v6.example.test AAAA \
	alias.example.test A nothing.example.test TXT _dmarc.example.test TXT
# what the scripts take of dig's output: status, question, records (in
# any order: a server may rotate them)
take() {
	awk '/->>HEADER<<-/ { s = $0; sub(/.*status: /, "", s); sub(/,.*/, "", s); print "status", s }
		/^;; QUESTION SECTION:/ { q = 1; next }
		q && /^;/ { $1 = $1; print "question", $0; q = 0; next }
		/^;/ || NF < 5 { next }
		{ $1 = $1; print }' | sort
}
dig +noall +comments +question +answer +time=2 +tries=2 @127.0.0.1 -p "$port" "$@" |
	take >"$T/dig.want"
"$TOOL" dig +noall +comments +question +answer +time=2 +tries=2 @127.0.0.1 -p "$port" "$@" |
	take >"$T/dig.got"
is "$(grep -c . "$T/dig.want")" 27 "dig: nine questions, their statuses and records (the oracle)"
ok "dig: the same statuses, questions and records as dig's" cmp -s "$T/dig.got" "$T/dig.want"
cmp -s "$T/dig.got" "$T/dig.want" || diag "$(diff "$T/dig.want" "$T/dig.got")"
"$TOOL" dig +time=1 +tries=1 @127.0.0.1 -p 9 example.test TXT >"$T/none" 2>&1
has "$T/none" "no servers could be reached" "dig: no server answering, dig's line"
lacks "$T/none" "HEADER" "and no status"
run "$TOOL" dig example.test
is "$rc" 1 "dig without a type: exit 1"
