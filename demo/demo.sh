#!/bin/sh
# make demo: qmail-dkim's main job on a built-in example.
#
# A throwaway qmail home gets a fresh 2048-bit key for example.com; the
# sample message goes through qmail-dkim exactly as qmail-rspawn would
# send it (fd 0 the queue file, fd 2 joined to fd 1, SIGPIPE ignored,
# SIGCHLD blocked, environment reduced to PATH); a stand-in real
# qmail-remote shows what it would put on the wire; dkimpy verifies it.
# Then the same delivery through qmail-dkimc, with qmail-dkimd signing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/qmail-dkim-demo.XXXXXX")
dpid=
trap '[ -z "$dpid" ] || kill "$dpid" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
home=$T/qmail
key=$home/control/domainkeys/example.com/default

step() { printf '\n== %s\n' "$*"; }

# spawn PROGRAM: the delivery, as qmail-rspawn makes it, and its report
spawn() {
	/usr/bin/python3 "$top/tests/rspawn.py" --report "$T/report" --status "$T/status" \
		--env="QMAILDKIM_HOME=$home" --env="PATH=$home/bin:/usr/bin:/bin" \
		"$top/demo/sample.eml" "$top/qmail-dkim/$1" \
		gmail.example alice@example.com bob@gmail.example
	printf 'exit status %s, report to qmail-rspawn: ' "$(cat "$T/status")"
	perl -0777 -pe 's/\0/\\0/g; s/\n/\\n/g' "$T/report"
	echo
}

step "1. a throwaway key: $key"
mkdir -p "$home/bin" "$home/queue/mess" "${key%/*}" "$T/dns" "$T/out"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
p=$(openssl pkey -in "$key" -pubout -outform DER | base64 -w0)
echo "v=DKIM1; k=rsa; p=$p" >"$T/dns/default._domainkey.example.com"
echo "the TXT record to publish (here: a stand-in DNS directory):"
echo "default._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=$(echo "$p" | cut -c1-40)...\""

step "2. the real qmail-remote: a stand-in that records the wire bytes"
cat >"$home/bin/qmail-remote.orig" <<EOS
#!/usr/bin/python3
import runpy, sys
sys.argv[1:1] = ["--out", "$T/out", "--mode", "netqmail"]
runpy.run_path("$top/tests/fake-remote.py", run_name="__main__")
EOS
chmod 755 "$home/bin/qmail-remote.orig"

step "3. qmail-rspawn runs: qmail-remote gmail.example alice@example.com bob@gmail.example"
spawn qmail-dkim
printf '%s\n' '(what qmail-rspawn reads: records, each ended by \0; r: bob@gmail.example accepted,' \
	"K: the message delivered, with the text for qmail-send's log)"

step "4. what goes out on the wire"
tr -d '\r' <"$T/out/wire"
echo
echo "(h= names From twice: the second, a From: the message lacks, makes one added on the way break the signature, RFC 6376 8.15; To, Cc, Subject, Date, Reply-To likewise)"

step "5. independent verifiers check the wire bytes: dkimpy"
/usr/bin/python3 "$top/tests/verify-dkimpy.py" "$T/dns" "$T/out/wire"
echo "and Mail::DKIM:"
perl "$top/tests/verify-maildkim.pl" "$T/dns" "$T/out/wire"

step "6. busy hosts: qmail-dkimd signs, qmail-dkimc stands in for qmail-remote"
sock=$T/dkimd.sock
QMAILDKIM_HOME=$home "$top/qmail-dkim/qmail-dkimd" -n 1 "$sock" &
dpid=$!
echo "$sock" >"$home/control/dkimsocket"
# no bin/qmail-dkim, qmail-dkimc's fallback, here: a Z record would show
# that the daemon did not answer; a signature, that it did
i=0
while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rm -rf "$T/out" && mkdir "$T/out"
spawn qmail-dkimc
# the signature field, all its lines
tr -d '\r' <"$T/out/wire" | sed -n '1,/^$/p' |
	awk '/^DKIM-Signature:/ { p = 1; print; next } p && /^[ \t]/ { print; next } { p = 0 }'
echo "dkimpy:"
/usr/bin/python3 "$top/tests/verify-dkimpy.py" "$T/dns" "$T/out/wire"
kill "$dpid" && wait "$dpid" && dpid=
