#!/bin/sh
# 295-keygen-bulk.t: qmail-dkim-keygen -V provisions 50 domains from
# control/virtualdomains and users/assign in one command: a staged key
# each, granted to the user users/assign delivers its mail to, the domains
# that have a key left alone; its tinydns-data lines, compiled by Debian's
# tinydns-data and served by tinydns (in a network namespace of its own,
# tinydns answers on port 53 only), are what qmail-dkim-check -a accepts;
# -A -l then activates those of a list. The zone-file form is checked against
# the keys' values; -l FILE takes a list.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need dig openssl
plan 26

qmail_accounts
qmail_home
mkdir -p "$Q/users"
KG_=$S/qmail-dkim-keygen
keygen() { run "$KG_" -d "$Q" -u "$KU" -g "$KG" "$@"; }

# 50 domains: their users by +PREFIX-: lines (a user of this host, or a
# uid it does not know), one by =PREFIX:, wildcards and addresses that
# name no domain, one whose user nothing names, one that has a key.
: >"$Q/control/virtualdomains"
: >"$T/rights.want"
i=0
while [ "$i" -lt 50 ]; do
	i=$((i + 1))
	echo "c$i.test:cust$i" >>"$Q/control/virtualdomains"
done
{
	echo ".wild.test:wild"
	echo "info@single.test:single"
	echo "nobody.test:ghost-user-x"
	echo "has.test:cust1"
	echo "exact.test:exact"
} >>"$Q/control/virtualdomains"
{
	# +custN-: each domain's own line (+cust1- does not take cust10's
	# mail: "cust10-" does not begin with "cust1-"); a third to root, a
	# third to users this host does not know (by uid), a third to nobody
	i=0
	while [ "$i" -lt 50 ]; do
		i=$((i + 1))
		case $((i % 3)) in
		0) echo "+cust$i-:root:0:0:/root:-::" ;;
		1) echo "+cust$i-:vpopuser$i:$((5000 + i)):$((5000 + i)):/home/v$i:-::" ;;
		2) echo "+cust$i-:nobody:65534:65534:/nonexistent:-::" ;;
		esac
	done
	echo "=exact:root:0:0:/root:::"
	echo "."
} >"$Q/users/assign"
printf '# customers\n' >"$Q/control/dkimrights"
admin_keygen -t ed25519 has.test k1 || bail "qmail-dkim-keygen failed"
echo "root: has.test" >>"$Q/control/dkimrights"

keygen -t ed25519 -V -z tinydns
is "$rc" 1 "-V: exit 1, as one domain could not be made"
has "$T/err" "nobody\\.test: neither users/assign nor a user name says whose its mail is; left out" "the domain whose user nothing names is left out, and said"
has "$T/err" "has\\.test: has a key already, left as it is" "a domain with a key is left as it is"
has "$T/err" "51 key\\(s\\) made, 1 domain\\(s\\) had one, 1 failed" "the summary: 51 made (50 + exact.test)"
sel=s$(date +%Y%m)
n=$(awk -F: '/^c[0-9]+\.test:|^exact\.test:/ { print $1 }' "$Q/control/virtualdomains" |
	while read -r d; do
		if [ -f "$K/$d/$sel" ] && [ ! -f "$K/$d/selector" ]; then echo "$d"; fi
	done | wc -l | tr -d ' ')
is "$n" 51 "each domain has a staged key $sel, and no selector file"
lacks "$T/out" "wild|single" "wildcards and addresses name no domain"
# shellcheck disable=SC2012 # the names, sorted, are the point
is "$(ls "$K/has.test" | tr '\n' ' ')" "k1 k1.pub k1.txt selector " "the domain with a key is unchanged"
has "$Q/control/dkimrights" "^root: has\\.test c3\\.test c6\\.test .*c48\\.test exact\\.test$" "root is granted its domains on its line (+cust3-, =exact)"
has "$Q/control/dkimrights" "^5001: c1\\.test$" "a user this host does not know is granted by uid"
has "$Q/control/dkimrights" "^nobody: c2\\.test c5\\.test " "a user this host knows is granted by name"
is "$(grep -c '^:' "$T/out")" 51 "one tinydns line a key"
# format: :fqdn:16:rdata, the rdata strings with octal-escaped lengths
bad=$(grep -v -E '^:s[0-9]{6}\._domainkey\.[a-z0-9.]+:16:(\\[0-3][0-7][0-7]|[A-Za-z0-9+/=.;_-])+$' "$T/out" | head -3)
is "$bad" "" "each line is tinydns-data's generic form, every other byte escaped"

cp "$T/out" "$T/v.data"

# --- a list (-l), records in a file each (-o); RSA's record is two strings ---------
printf 'r1.test root\nr2.test\n# a comment\n\nBAD..test\n' >"$T/list"
mkdir "$T/zones"
keygen -l "$T/list" -a 65534 -z zone -o "$T/zones"
is "$rc" 1 "-l: exit 1, as one line is no domain"
has "$T/err" "bad\\.\\.test: not a domain name, left out" "the line that is no domain is left out"
has "$Q/control/dkimrights" "^root: .* r1\\.test$" "-l: the domain's own WHO"
has "$Q/control/dkimrights" "^65534: r2\\.test$" "-l: -a WHO for the others"
# shellcheck disable=SC2012 # the names, sorted, are the point
is "$(ls "$T/zones" | tr '\n' ' ')" "r1.test r2.test " "-o DIR: a file a domain"
# the zone line's strings, joined, are the key's value
want=$(cat "$K/r1.test/$sel.txt")
got=$(grep "^$sel\\._domainkey\\.r1\\.test\\. IN TXT " "$T/zones/r1.test" | sed 's/^[^"]*//' |
	awk '{ s = $0; gsub(/" "/, "", s); gsub(/"/, "", s); print s }')
is "$got" "$want" "the zone line holds the key's value, in strings of at most 255"
is "$(grep -o '"[^"]*"' "$T/zones/r1.test" | awk '{ print length($0) - 2 }' | tr '\n' ' ')" "255 $((${#want} - 255)) " \
	"two strings: 255 bytes and the rest"

# --- tinydns-data compiles the lines, tinydns serves them, the checker accepts ---------
if ! command -v tinydns-data >/dev/null 2>&1 || ! command -v tinydns >/dev/null 2>&1; then
	skip 4 "tinydns-data, tinydns not installed (tests/deps.sh installs tinydns)"
	exit 0
fi
if [ -z "$root" ] || ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
	skip 4 "tinydns answers on port 53 only: root, unshare and ip make a network of its own"
	exit 0
fi
# -V's lines, and those -p -z tinydns prints of the others
mkdir "$T/tinydns"
{
	# the zone, with its NS record: tinydns answers only where it has one
	echo ".test:127.0.0.1:a"
	cat "$T/v.data"
	"$KG_" -d "$Q" -p -z tinydns r1.test "$sel"
	"$KG_" -d "$Q" -p -z tinydns r2.test "$sel"
	"$KG_" -d "$Q" -p -z tinydns has.test k1
} >"$T/tinydns/data"
rc=0
(cd "$T/tinydns" && tinydns-data) >"$T/tdd.out" 2>&1 || rc=$?
is "$rc" 0 "tinydns-data compiles the lines" || sed 's/^/  /' "$T/tdd.out" >&2
cat >"$T/inside.sh" <<EOF
ip link set lo up
env - ROOT="$T/tinydns" IP=127.0.0.1 UID=65534 GID=65534 "$(command -v tinydns)" >"$T/tinydns.log" 2>&1 &
pid=\$!
i=0
until dig +short +time=1 +tries=1 @127.0.0.1 "$sel._domainkey.c1.test" TXT 2>/dev/null | grep -q DKIM1; do
	i=\$((i + 1))
	[ "\$i" -lt 30 ] || break
	sleep 0.1
done
"$S/qmail-dkim-check" -a -d "$Q" -s 127.0.0.1 -u "$KU" -g "$KG" >"$T/check1" 2>&1
echo \$? >"$T/check1.rc"
printf 'c1.test\nc2.test\nc3.test\nr1.test\nr2.test\nhas.test\n' >"$T/act.list"
"$KG_" -d "$Q" -u "$KU" -g "$KG" -s 127.0.0.1 -A "$sel" -l "$T/act.list" >"$T/act" 2>&1
echo \$? >"$T/act.rc"
"$S/qmail-dkim-check" -a -d "$Q" -s 127.0.0.1 -u "$KU" -g "$KG" >"$T/check2" 2>&1
echo \$? >"$T/check2.rc"
kill \$pid
EOF
unshare --net sh "$T/inside.sh"
is "$(grep -c '^WARN  c[0-9]*\.test '"$sel"'=staged/match/0d rights=.*not signing yet: the staged key '"$sel"' is published$' "$T/check1")" 50 \
	"qmail-dkim-check -a: each staged key's record, served by tinydns, matches" || sed 's/^/  /' "$T/check1" | head -8 >&2
has "$T/check1" "^WARN  r1\\.test $sel=staged/match/0d rights=root " "RSA's record of two strings too"
is "$(cat "$T/act.rc")" 0 "-A -l activates each listed domain's staged key once DNS serves it" || sed 's/^/  /' "$T/act" | head >&2
has "$T/act" "5 domain\\(s\\) sign with $sel; 1 have no key $sel; 0 failed" "and says how many"
is "$(cat "$T/check2.rc") $(grep -c "^OK    " "$T/check2") $(grep -c "^WARN  " "$T/check2")" "1 6 48" \
	"then those sign, DNS matching: OK; the 48 others still WARN, exit 1" || sed 's/^/  /' "$T/check2" | head -8 >&2
has "$T/check2" "^OK    r1\\.test $sel=live/match/0d rights=root$" "r1.test signs with its RSA key"
