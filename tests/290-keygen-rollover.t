#!/bin/sh
# 290-keygen-rollover.t: the steps of a key's life are commands of
# qmail-dkim-keygen, none a hand-edited file: a new key is staged (not
# listed in the selector file, even the first of a domain); -A lists it
# once DNS (dnsmasq on loopback) serves its record, in place of the
# listed key of the same algorithm, in one rename; -R removes a key no
# longer listed; -N signs at once.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 58

qmail_accounts
qmail_home
D=$K/roll.test
kg() { run "$S/qmail-dkim-keygen" -d "$Q" -u "$KU" -g "$KG" "$@"; }
# sel DIR: the selector file's lines, joined by spaces ("none" if absent).
sel() { if [ -e "$1/selector" ]; then tr '\n' ' ' <"$1/selector" | sed 's/ $//'; else echo none; fi; }

# --- a new key is staged -------------------------------------------------------
kg roll.test s1
is "$rc" 0 "keygen roll.test s1: exit 0"
ok "the key is written" test -f "$D/s1"
is "$(sel "$D")" none "the first key of a domain is not listed: no selector file"
has "$T/out" "staged: qmail-dkim signs mail from roll\.test with no key yet, not with s1" "says the key is staged"
has "$T/out" "^  qmail-dkim-keygen -d $Q -A s1 roll\.test$" "and the command that activates it"
kg roll.test
is "$rc" 1 "keygen DOMAIN (the key named default, live by its name): refused without -N"
has "$T/err" "-N \(--now\)" "... and names -N"
ok "... and writes no key named default" test ! -e "$D/default"
kg -t ed25519 roll.test e1
is "$rc" 0 "an Ed25519 key: exit 0"
kg roll.test s2
kg roll.test s3
kg roll.test s4
kg -t ed25519 roll.test e2
is "$(sel "$D")" none "none of five more keys is listed"

# DNS: s1, e1, s2 and e2 published; s3 not; s4's name has another key.
other=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null |
	openssl pkey -pubout -outform DER | openssl base64 -A)
{
	echo "local=/test/"
	for s in s1 e1 s2 e2; do
		echo "txt-record=$s._domainkey.roll.test,$(cat "$D/$s.txt")"
	done
	echo "txt-record=s4._domainkey.roll.test,\"v=DKIM1; k=rsa; p=$other\""
} >"$T/dns.conf"
start_dns 2901
ns=127.0.0.1:$port

# --- -A: only an existing key whose record DNS serves ----------------------------
kg -s "$ns" -A nosuch roll.test
is "$rc" 1 "-A of a key that does not exist: refused"
has "$T/err" "no key .*/roll\.test/nosuch to activate \(the staged keys of roll\.test: " "... naming the staged keys"
kg -s "$ns" -A s3 roll.test
is "$rc" 1 "-A of a key whose record is not in DNS: refused"
has "$T/err" "DNS serves no TXT record at s3\._domainkey\.roll\.test" "... saying so"
has "$T/err" "-p roll\.test s3 prints it" "... with the command that prints the record"
kg -s "$ns" -A s4 roll.test
is "$rc" 1 "-A of a key whose name in DNS has another key: refused"
has "$T/err" "not this key's" "... saying so"
kg -s 127.0.0.1:9 -A s1 roll.test
is "$rc" 1 "-A when DNS does not answer (nothing on the discard port): refused"
has "$T/err" "the lookup of s1\._domainkey\.roll\.test TXT got no answer" "... saying the lookup got no answer"
is "$(sel "$D")" none "refusals write no selector file"
kg -s "$ns" -A s1 roll.test
is "$rc" 0 "-A s1, its record in DNS: exit 0"
is "$(sel "$D")" s1 "the selector file lists s1"
is "$(mode "$D/selector" | cut -c1-10)" "-rw-r--r--" "the selector file is mode 0644"
kg -s "$ns" --activate e1 roll.test
is "$rc" 0 "--activate e1: exit 0"
is "$(sel "$D")" "s1 e1" "an Ed25519 key is listed beside the RSA one"
kg -s "$ns" -A s2 roll.test
is "$rc" 0 "-A s2: exit 0"
is "$(sel "$D")" "e1 s2" "s2 replaces s1, the listed key of its algorithm; e1 stays"
has "$T/out" "s1 no longer signs" "says s1 no longer signs"
has "$T/out" "^  qmail-dkim-keygen -d $Q -R s1 roll\.test$" "... and how to retire it later"
kg -s "$ns" -A e2 roll.test
is "$(sel "$D")" "s2 e2" "e2 replaces e1; s2 stays"
kg -s "$ns" -A e2 roll.test
is "$rc" 0 "-A of a listed key again: exit 0"
is "$(sel "$D")" "s2 e2" "... nothing changes"
kg -s "$ns" -f -A s3 roll.test
is "$rc" 0 "-f -A of a key not in DNS: exit 0"
has "$T/err" "warning: DNS serves no TXT record at s3\._domainkey\.roll\.test" "... with a warning"
is "$(sel "$D")" "e2 s3" "... and s3 listed"
kg -s "$ns" -A s2 roll.test

# --- a typo in the selector file: -A takes it out ----------------------------------
printf 'e2\n# our key\ns2x\n' >"$D/selector"
kg -s "$ns" -A s2 roll.test
is "$rc" 0 "-A with a listed selector that has no key: exit 0"
is "$(sel "$D")" "e2 s2" "the selector without a key is taken out"
has "$T/out" "took out s2x" "... and says so"

# --- no link followed, no temporary file left -------------------------------------
echo precious >"$T/victim"
rm "$D/selector"
ln -s "$T/victim" "$D/selector"
kg -s "$ns" -A s2 roll.test
is "$rc" 1 "a symbolic link at the selector file's name: refused"
is "$(cat "$T/victim")" precious "... the file it leads to is untouched"
rm "$D/selector"
printf 'e2\ns2\n' >"$D/selector"
is "$(find "$D" -name '.*' | wc -l | tr -d ' ')" 0 "no temporary file is left"

# --- -R: only a key no longer listed ----------------------------------------------
kg -R s2 roll.test
is "$rc" 1 "-R of a listed key: refused"
ok "... the key stays" test -f "$D/s2"
has "$T/err" "-A NEWSELECTOR roll\.test" "... naming the step before"
kg --retire s1 roll.test
is "$rc" 0 "--retire of an unlisted key: exit 0"
ok "... the key, .pub and .txt are gone" test ! -e "$D/s1" -a ! -e "$D/s1.pub" -a ! -e "$D/s1.txt"
has "$T/out" "remove the TXT record s1\._domainkey\.roll\.test" "... and says which record to remove"
kg -R s1 roll.test
is "$rc" 1 "-R of a key that does not exist: refused"

# --- -N signs at once ----------------------------------------------------------------
kg -N -t ed25519 now.test
is "$rc" 0 "-N with the key named default: exit 0"
ok "... the key named default is written" test -f "$K/now.test/default"
is "$(sel "$K/now.test")" none "... and, alone, needs no selector file"
kg --now now.test r1
is "$(sel "$K/now.test")" "default r1" "--now of an RSA key beside it: both listed"
kg -R default now.test
is "$rc" 1 "-R of a listed default key: refused"

# --- a user's own keys (-k DIR): the same steps --------------------------------------
uk() { run "$S/qmail-dkim-keygen" -k "$T/ukeys" "$@"; }
mkdir -m 0700 "$T/ukeys"
uk -t ed25519 u.test e1
is "$(sel "$T/ukeys/u.test")" none "-k DIR: the new key is staged"
uk -s "$ns" -A e1 u.test
is "$rc" 1 "-k DIR -A without a record: refused"
uk -s "$ns" -f -A e1 u.test
is "$(sel "$T/ukeys/u.test")" e1 "-k DIR -f -A: listed"

# --- usage ---------------------------------------------------------------------------
kg -A s1 -R s2 roll.test
is "$rc" 2 "-A with -R: a usage error"
kg --bogus roll.test s9
is "$rc" 2 "an unknown long option: a usage error"
