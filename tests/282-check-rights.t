#!/bin/sh
# 282-check-rights.t: qmail-dkim-check on who may sign as which domain
# (control/dkimrights) and on who can change the keys: a multi-domain
# host without the file FAILs with the file to write, proposed from
# control/virtualdomains, users/assign and home directories; the file's
# lines are checked; key directories and keys others can write FAIL.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 49

qmail_accounts
echo "local=/test/" >"$T/dns.conf"
start_dns 8111
chk() {
	name=$1 home=$2 dom=$3
	shift 3
	spawn "$name" "$S/qmail-dkim-check" -d "$home" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -T -i 192.0.2.7 "$@" "$dom"
}
# keys HOME DOMAIN...: a qmail home with a key for each DOMAIN.
keys() {
	_h=$1
	shift
	mkdir -p "$_h/control"
	for _d; do
		"$S/qmail-dkim-keygen" -N -d "$_h" -u "$KU" -g "$KG" -t ed25519 "$_d" >/dev/null 2>"$T/keygen.err" ||
			bail "qmail-dkim-keygen $_d: $(cat "$T/keygen.err")"
	done
}
# proposed: the file the last check proposes, without its indent.
proposed() { sed -n 's/^             //p' "$T/out"; }

# --- a host with many domains and no control/dkimrights ----------------------------
H1=$T/h1
keys "$H1" alice.example shop.alice.example bob.example carol.example dave.example
mkdir -p "$H1/users"
{
	echo "alice.example:nobody"
	echo "bob.example:bobpfx"
	echo "Carol.Example:carolpfx"
} >"$H1/control/virtualdomains"
{
	echo "+bobpfx-:daemon:1:1:/usr/sbin:-::"
	echo "=carolpfx:no-such-user-qd:1005:1005:/nonexistent:-::"
	echo "."
} >"$H1/users/assign"
H2=$T/h2
keys "$H2" only.example
chk many "$H1" alice.example
chk one "$H2" only.example
wait

see many
is "$rc" 1 "keys for many domains and no control/dkimrights: exit 1"
has "$T/out" "^FAIL  rights: keys for 5 domains \(.*\) and no $H1/control/dkimrights: every local user may sign as any of them" "FAILs, saying why"
has "$T/out" "^      fix: write $H1/control/dkimrights, mode 0644, with" "the fix names the file"
proposed >"$T/proposed"
has "$T/proposed" "^root: \*$" "the proposed file lets root sign as any domain"
has "$T/proposed" "^nobody: alice\.example shop\.alice\.example$" "a virtualdomains prefix that is a user, and a subdomain with its parent"
has "$T/proposed" "^daemon: bob\.example$" "a prefix mapped by users/assign to a user"
has "$T/proposed" "^1005: carol\.example$" "an assign entry whose user name is not that uid's gives the uid (domains in any case)"
has "$T/proposed" "^# \?: dave\.example$" "an owner not found is a comment"
has "$T/proposed" "^# WHO: DOMAIN" "with a comment saying the format"

see one
has "$T/out" "^OK    rights: no $H2/control/dkimrights: every local user may sign as only\.example, the only domain with a key" "one domain without the file: OK"
lacks "$T/out" "^FAIL  (rights|key)" "and no key or rights check FAILs"

# The proposed file, written as it says: its lines pass the check. (Less
# root's line: with "root: *" every domain is granted to someone.)
grep -v '^root:' "$T/proposed" >"$H1/control/dkimrights"
chmod 0644 "$H1/control/dkimrights"
chk written "$H1" alice.example
chk written-bob "$H1" bob.example
wait
see written
lacks "$T/out" "^FAIL  rights" "the proposed file has no FAIL"
has "$T/out" "^WARN  rights: dave\.example has a key, but no line of .*dkimrights grants it" "a domain no line grants: WARN"
has "$T/out" "^      fix: add the user who sends its mail: USER: dave\.example$" "with the line to add"
has "$T/out" "^OK    rights: .*dkimrights lets nobody sign as alice\.example$" "who may sign as the checked domain"
see written-bob
has "$T/out" "^OK    rights: .*dkimrights lets daemon sign as bob\.example$" "and for another domain"

# --- the file's syntax ----------------------------------------------------------------
H3=$T/h3
keys "$H3" a.example b.example c.example
printf '%s\n' "# who: domains" "" "  root: a.example   # the admin" "1005: b.example" \
	"@qmail: c.example" "1005 c.example" "bad name: a.example" "x: A.example" "y: a_b.example" \
	"z:" "no-such-user-qd: a.example" "@no-such-group-qd: a.example" >"$H3/control/dkimrights"
printf 'root: a.example\r\n' >>"$H3/control/dkimrights"
chk syntax "$H3" a.example
H4=$T/h4
keys "$H4" a.example b.example
printf '@qmail: *\nroot: forwarder\n' >"$H4/control/dkimrights"
chk star "$H4" b.example
wait
see syntax
is "$rc" 1 "syntax errors: exit 1"
has "$T/out" "^FAIL  rights: .*dkimrights line 6: no colon in '1005 c\.example'" "a line without a colon FAILs"
has "$T/out" "^FAIL  rights: .*dkimrights line 7: 'bad name' is not a user name, a uid or @group" "a WHO with a blank FAILs"
has "$T/out" "^FAIL  rights: .*dkimrights line 8: 'A\.example' is not in lower case" "an upper-case domain FAILs"
has "$T/out" "^      fix: write it as a\.example$" "with the fix"
has "$T/out" "^FAIL  rights: .*dkimrights line 9: 'a_b\.example' is not a domain name, \* or forwarder" "a bad domain FAILs"
has "$T/out" "^FAIL  rights: .*dkimrights line 10: no domain after 'z:'" "a line without domains FAILs"
has "$T/out" "^WARN  rights: .*dkimrights line 11: there is no user no-such-user-qd" "an unknown user: WARN"
has "$T/out" "^WARN  rights: .*dkimrights line 12: there is no group no-such-group-qd" "an unknown group: WARN"
lacks "$T/out" "dkimrights line [1-5]:" "comments, blank lines, blanks and good lines pass"
lacks "$T/out" "line 13" "a CR at the end of a line is taken as a blank"
lacks "$T/out" "^WARN  rights: [abc]\.example has a key" "every domain is granted"
has "$T/out" "^OK    rights: .*dkimrights lets root no-such-user-qd @no-such-group-qd sign as a\.example$" "who may sign as a.example"
see star
lacks "$T/out" "^(WARN|FAIL)  rights" "* grants every domain"
has "$T/out" "^OK    rights: .*dkimrights lets @qmail sign as b\.example$" "and says so"
has "$T/out" "^OK    rights: trusted forwarders: root: " "forwarder is no domain: a trusted forwarder, named"

# --- who can change the keys and the file -----------------------------------------------
H5=$T/h5
keys "$H5" mine.example other.example open.example loose.example grp.example
K5=$H5/control/domainkeys
printf 'root: *\n' >"$H5/control/dkimrights"
chmod 0664 "$H5/control/dkimrights"
chmod 0770 "$K5/other.example"
chmod 0444 "$K5/open.example/default"
chmod 0600 "$K5/loose.example/default"
chmod 0440 "$K5/grp.example/default"
# an old key of the checked domain, no longer listed, left readable
cp -p "$K5/open.example/default" "$K5/mine.example/old"
chk modes "$H5" mine.example
if [ -n "$root" ]; then
	H6=$T/h6
	keys "$H6" u1.example u2.example
	chown 65534 "$H6/control/domainkeys/u1.example" "$H6/control/dkimrights" 2>/dev/null ||
		printf 'root: *\n' >"$H6/control/dkimrights"
	chown 65534 "$H6/control/dkimrights"
	chk users "$H6" u2.example
	H8=$T/h8
	keys "$H8" r1.example
	printf 'root: *\n' >"$H8/control/dkimrights"
	chmod 0600 "$H8/control/dkimrights"
	chk unread "$H8" r1.example
fi
wait
see modes
is "$rc" 1 "keys and directories others can write: exit 1"
has "$T/out" "^FAIL  rights: $H5/control/dkimrights is writable by others \(-rw-rw-r--\)" "a group-writable control/dkimrights FAILs"
has "$T/out" "^      fix: check every line of it, then: chmod 0644 $H5/control/dkimrights$" "with the fix"
has "$T/out" "^FAIL  key: $K5/other\.example is writable by its group \(drwxrwx---\)" "a group-writable domain directory FAILs"
has "$T/out" "^      fix: chown root:$KG $K5/other\.example; chmod 0750 $K5/other\.example$" "with the fix"
has "$T/out" "^FAIL  key: $K5/open\.example/default is readable or writable by every local user" "another domain's world-readable key FAILs"
has "$T/out" "^FAIL  key: $K5/loose\.example/default is writable by its owner, uid [0-9]+ \(-rw-------\)" "a key its non-root owner can write FAILs"
has "$T/out" "^      fix: chown $KU:$KG $K5/loose\.example/default; chmod 0400 " "with the fix"
has "$T/out" "^WARN  key: $K5/grp\.example/default is readable by its group \(-r--r-----\): only $KU needs to read it" "a group-readable key: WARN"
has "$T/out" "^FAIL  key: $K5/mine\.example/old is readable or writable by every local user" "an old key of the checked domain is judged too"
is "$(grep -c "mine\.example/default" "$T/out")" 2 "the checked key is named twice only (found, and its mode)"
if [ -n "$root" ]; then
	see users
	has "$T/out" "^FAIL  key: $H6/control/domainkeys/u1\.example belongs to uid 65534, who can replace the keys under it" "a user-owned domain directory FAILs"
	has "$T/out" "^FAIL  rights: $H6/control/dkimrights belongs to uid 65534, who can let anyone sign as any domain" "a user-owned control/dkimrights FAILs"
	see unread
	has "$T/out" "^FAIL  key: qmailr cannot read $H8/control/dkimrights: qmail-dkim defers all mail from r1\.example" "a control/dkimrights qmailr cannot read FAILs"
	has "$T/out" "^      fix: chmod 0644 $H8/control/dkimrights$" "with the fix"
else
	skip 4 "other owners: not root"
fi

# --- an owner found by a home directory named after the domain --------------------------
# A passwd of our own, in a private mount namespace: the host's is not touched.
if [ -n "$root" ] && command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	H7=$T/h7
	keys "$H7" erin.example frank.example
	cp /etc/passwd "$T/passwd"
	echo "erin-qd:x:4242:4242::$T/home/erin-qd:/bin/sh" >>"$T/passwd"
	echo "frank-qd:x:4243:4243::$T/home/frank.example:/bin/sh" >>"$T/passwd"
	mkdir -p "$T/home/erin-qd/erin.example" "$T/home/frank.example"
	chown 4242 "$T/home/erin-qd/erin.example"
	chown 4243 "$T/home/frank.example"
	rc=0
	# shellcheck disable=SC2016 # the inner shell expands them
	unshare -m sh -c 'mount --bind "$1" /etc/passwd && shift && exec "$@"' sh "$T/passwd" \
		"$S/qmail-dkim-check" -d "$H7" -s "127.0.0.1:$port" -T -i 192.0.2.7 erin.example >"$T/out" 2>"$T/err" || rc=$?
	proposed >"$T/proposed"
	has "$T/proposed" "^erin-qd: erin\.example$" "a DOMAIN directory in a user's home names its owner"
	has "$T/proposed" "^frank-qd: frank\.example$" "so does a home directory named DOMAIN"
else
	skip 2 "a passwd of our own needs root and unshare"
fi
