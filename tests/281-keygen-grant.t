#!/bin/sh
# 281-keygen-grant.t: qmail-dkim-keygen -a WHO grants the new key's domain
# to WHO in control/dkimrights: one line a WHO, replaced in one rename,
# never through a link, and nothing changes when WHO has it already.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed"
plan 40

qmail_accounts
qmail_home
R=$Q/control/dkimrights
keygen() { run "$S/qmail-dkim-keygen" -N -d "$Q" -u "$KU" -g "$KG" -t ed25519 "$@"; }
# inode FILE: its inode number, which a rename changes.
# shellcheck disable=SC2012 # ls -i is the portable way
inode() { ls -i "$1" | awk '{ print $1 }'; }

# --- the first domain: the file is made ----------------------------------------
keygen -a 1005 a.example
is "$rc" 0 "keygen -a 1005 a.example succeeds"
has "$T/out" "dkimrights: 1005 may sign as a\.example" "and says what it granted"
is "$(grep -v '^#' "$R")" "1005: a.example" "control/dkimrights grants a.example to uid 1005"
has "$R" "^# WHO: DOMAIN\.\.\." "with a comment that says the format"
is "$(mode "$R" | cut -c1-10)" "-rw-r--r--" "control/dkimrights is mode 0644 (qmail-dkim reads it as qmailr)"
if [ -n "$root" ]; then
	is "$(mode "$R" | cut -d' ' -f2 | cut -d: -f1)" root "and root's"
else
	skip 1 "owner: not root"
fi
if [ -f "$K/a.example/default" ]; then pass "the key is made too"; else fail "the key is made too"; fi

# --- more domains: added to WHO's line, or a line of its own -----------------------
ino=$(inode "$R")
keygen -a 1005 b.example
is "$rc" 0 "a second domain for the same uid"
is "$(grep -v '^#' "$R")" "1005: a.example b.example" "is added to its line"
isnt "$(inode "$R")" "$ino" "the file is replaced by a rename, not written in place"
is "$(find "$Q/control" -name '.dkimrights*' | wc -l | tr -d ' ')" 0 "no temporary file is left"
keygen -a root c.example
is "$rc" 0 "another WHO"
is "$(sed -n '$p' "$R")" "root: c.example" "gets a line of its own at the end"
sum=$(cksum <"$R")
keygen -a 1005 -f b.example
is "$rc" 0 "keygen -f with a grant that is there already succeeds"
has "$T/out" "already lets 1005 sign as b\.example" "and says so"
is "$(cksum <"$R")" "$sum" "the file is unchanged"
keygen -a 1005 b.example s2
is "$rc" 0 "a second selector of a granted domain"
is "$(cksum <"$R")" "$sum" "leaves the file unchanged"

# What the administrator wrote is kept: comments, blank lines, other lines.
printf '# our customers\n\n1005: a.example b.example\nroot: c.example   # the admin\n@qmail: *\nroot: x.example\n' >"$R"
keygen -a root d.example
is "$rc" 0 "a grant to a WHO whose line has a comment"
is "$(cat "$R")" "# our customers

1005: a.example b.example
root: c.example d.example   # the admin
@qmail: *
root: x.example" "goes on its first line, before the comment; the rest is as it was"
sum=$(cksum <"$R")
keygen -a @qmail e.example
is "$rc" 0 "a grant to a group that may sign as *"
has "$T/out" "already lets @qmail sign as e\.example" "is there already"
is "$(cksum <"$R")" "$sum" "and changes nothing"
keygen -a nobody f.example
is "$rc" 0 "a user name"
is "$(sed -n '$p' "$R")" "nobody: f.example" "gets its line"

# --- refusals: nothing is made ----------------------------------------------------
keygen -a no-such-user-qd g.example
is "$rc" 1 "an unknown user is refused"
has "$T/err" "no user 'no-such-user-qd'" "with the reason"
keygen -a @no-such-group-qd g.example
is "$rc" 1 "an unknown group is refused"
keygen -a 'a b' g.example
is "$rc" 1 "a WHO with a blank is refused"
if [ ! -e "$K/g.example" ]; then pass "refused grants make no key"; else fail "refused grants make no key"; fi
run "$S/qmail-dkim-keygen" -d "$Q" -p -a root a.example
is "$rc" 2 "-a with -p is a usage error"

# No file yet, but keys for other domains: a file with one line would
# stop their signing for every other local user.
Q2=$T/q2
mkdir -p "$Q2/control"
run "$S/qmail-dkim-keygen" -N -d "$Q2" -u "$KU" -g "$KG" -t ed25519 h.example
run "$S/qmail-dkim-keygen" -N -d "$Q2" -u "$KU" -g "$KG" -t ed25519 -a 1005 i.example
is "$rc" 1 "without control/dkimrights on a host with other keys, -a is refused"
has "$T/err" "would stop local users' mail from h\.example being signed" "and says why"
has "$T/err" "qmail-dkim-check i\.example proposes it" "and where to get the whole file"
if [ ! -e "$Q2/control/dkimrights" ] && [ ! -e "$Q2/control/domainkeys/i.example" ]; then
	pass "nothing is made"
else
	fail "nothing is made"
fi

if [ -n "$root" ]; then
	echo "root's own" >"$T/victim"
	mv "$R" "$T/rights"
	ln -s "$T/victim" "$R"
	keygen -a root j.example
	is "$rc" 1 "control/dkimrights as a link is refused"
	is "$(cat "$T/victim")" "root's own" "and what it links to is unchanged"
	rm "$R"
	mv "$T/rights" "$R"
	chown 65534 "$R"
	keygen -a root j.example
	is "$rc" 1 "control/dkimrights owned by another uid is refused"
	has "$T/err" "belongs to uid 65534, who may have granted itself any domain" "with the reason"
	chown 0 "$R"
	chmod 0664 "$R"
	keygen -a root j.example
	is "$rc" 1 "a group-writable control/dkimrights is refused"
	chmod 0644 "$R"
else
	skip 5 "links and owners: not root"
fi
