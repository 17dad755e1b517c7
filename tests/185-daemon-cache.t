#!/bin/sh
# qmail-dkimd signs a queue file once: later deliveries of the same file
# get the same DKIM-Signature fields (sigcache.c), whichever of its two
# workers answers, and never once anything that decided them has changed.  Each change below comes between two
# deliveries of a file whose signatures the worker holds (the second
# delivery of each, a second later, got the first one's fields, t= and
# all), and the delivery after it must be signed afresh and verify with
# dkimpy and Mail::DKIM: the file rewritten in place (same inode, same
# size, other bytes), the file replaced under its name (a new inode),
# a new key under the same selector, a policy file, control/dkimrights,
# and another envelope sender.  A file changed within the time stamps'
# tick of its signing is never kept: written, signed, rewritten at once
# with the same size, it is signed afresh.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
. "${0%/*}/daemon.sh"
plan 31

# sig: the DKIM-Signature fields the real qmail-remote was handed
sig() { perl -0777 -ne 'print $1 if /\A((?:DKIM-Signature:.*?\n(?![ \t]))+)/s' "$T/out/stdin"; }
# same_size_edit FILE: other bytes in place, same inode, same size
same_size_edit() {
	perl -e 'open(my $f, "+<", $ARGV[0]) or die; local $/; $_ = <$f>;
		s/message (\d)/"message " . ($1 + 1) % 10/ge; seek($f, 0, 0); print $f $_;
		close($f) or die' "$1"
}
inode() { stat -c %i "$1"; }

home netqmail
echo '1000: example.com' >"$T/qmail/control/dkimrights"
ok "qmail-dkimd starts, two workers" start_daemon -n 2
for n in 1 2 3 4 5 6; do msg "$n" >/dev/null; done
# the files and the control files must be older than the time stamps'
# tick before anything is kept (sigcache.c)
sleep 3

for n in 1 2 3 4 5 6; do
	cdeliver "$T/m/$n.eml"
	by_daemon "message $n, first delivery" "$T/m/$n.eml" signed
	sig >"$T/sig.$n"
done
sleep 1.1
# twice each: whichever worker answers, the store is the workers' own
kept=0
for n in 1 2 3 4 5 6 1 2 3 4 5 6; do
	cdeliver "$T/m/$n.eml"
	sig | cmp -s - "$T/sig.$n" && kept=$((kept + 1))
done
is "$kept" 12 "two more deliveries of each file, a second later: the same fields, t= too"

# same inode, same size, other bytes
i=$(inode "$T/m/1.eml")
same_size_edit "$T/m/1.eml"
is "$(inode "$T/m/1.eml")" "$i" "rewritten in place: the same inode"
cdeliver "$T/m/1.eml"
outcome "rewritten in place: signed afresh, and it verifies" "$T/m/1.eml" signed
ok "  not the kept fields" sh -c "! sig | cmp -s - '$T/sig.1'"

# the same name, a new inode
cp "$T/m/2.eml" "$T/new.eml"
same_size_edit "$T/new.eml"
mv "$T/new.eml" "$T/m/2.eml"
cdeliver "$T/m/2.eml"
outcome "replaced under its name: signed afresh, and it verifies" "$T/m/2.eml" signed
ok "  not the kept fields" sh -c "! sig | cmp -s - '$T/sig.2'"

# a new key under the same selector; the old TXT record is gone, so the
# kept signature would fail
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/qmail/$K/.new" 2>/dev/null
mv "$T/qmail/$K/.new" "$T/qmail/$K/default"
echo "v=DKIM1; k=rsa; p=$(openssl pkey -in "$T/qmail/$K/default" -pubout -outform DER | base64 -w0)" \
	>"$T/dns/default._domainkey.example.com"
cdeliver "$T/m/3.eml"
by_daemon "a new key: signed afresh, and it verifies with the new key" "$T/m/3.eml" signed

# a policy file
echo 'From:Subject' >"$T/qmail/control/dkimsignheaders"
cdeliver "$T/m/4.eml"
outcome "control/dkimsignheaders written: signed afresh, and it verifies" "$T/m/4.eml" signed
is "$(sig | tr -d ' \t\n' | sed 's/.*;h=\([^;]*\);.*/\1/')" "From:To:Subject:Date:From:To:Cc:Subject:Date:Reply-To" \
	"  h= is the new policy's (no Message-ID, MIME-Version, Content-Type)"
rm "$T/qmail/control/dkimsignheaders"

# the rights: uid 1000 may no longer sign as example.com
echo '1001: example.com' >"$T/qmail/control/dkimrights"
cdeliver "$T/m/5.eml"
outcome "control/dkimrights no longer lets uid 1000 sign: not signed" "$T/m/5.eml" unsigned
echo '1000: example.com' >"$T/qmail/control/dkimrights"
cdeliver "$T/m/5.eml"
outcome "  and again: signed, and it verifies" "$T/m/5.eml" signed

# another envelope sender: a bounce signs as this host's domain, if any
cdeliver "$T/m/6.eml" example.net '' rcpt@example.net
outcome "a bounce of the same file: its own verdict" "$T/m/6.eml" signed
ok "  not the kept fields" sh -c "! sig | cmp -s - '$T/sig.6'"
printf 'nokey.test\n' >"$T/qmail/control/me"
echo '1000: example.com nokey.test' >"$T/qmail/control/dkimrights"
cdeliver "$T/m/6.eml" example.net someone@nokey.test rcpt@example.net
outcome "  and for a sender of another domain: signed as the From: domain" "$T/m/6.eml" signed

# changed within the tick it was signed in: written, signed, rewritten
msg 7 >/dev/null
cdeliver "$T/m/7.eml"
outcome "a new file: signed" "$T/m/7.eml" signed
sig >"$T/sig.7"
same_size_edit "$T/m/7.eml"
cdeliver "$T/m/7.eml"
outcome "rewritten at once, same size: signed afresh, and it verifies" "$T/m/7.eml" signed
ok "  not the first fields" sh -c "! sig | cmp -s - '$T/sig.7'"

stop_daemon
