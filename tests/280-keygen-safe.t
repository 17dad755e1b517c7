#!/bin/sh
# 280-keygen-safe.t: qmail-dkim-keygen run as root writes only in
# directories nobody else can change, and never through a symbolic link:
# the attacks a user who owns a key directory could make, run as an
# unprivileged uid, change no file of root's.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed"
[ "$(id -u)" -eq 0 ] || skip_all "the attacks need root to run qmail-dkim-keygen as"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv (util-linux) not installed"
plan 43

qmail_accounts
# The attacker: a uid of its own, no groups.
A=65534
as_attacker() { setpriv --reuid="$A" --regid="$A" --clear-groups -- "$@"; }

# home NAME: a qmail home $T/NAME as qmail makes it (root:qmail 0755), with
# control/domainkeys as keygen makes it; $H is the home, $D its domainkeys.
home() {
	H=$T/$1
	D=$H/control/domainkeys
	mkdir -p "$D"
	chown 0:qmail "$H" "$H/control" "$D"
	chmod 0755 "$H" "$H/control"
	chmod 0750 "$D"
}
# victim NAME: a file only root may change, $T/NAME.
victim() {
	echo "root's own $1" >"$T/$1"
	chmod 0644 "$T/$1"
}
# intact NAME DESC: the victim still is root's, with its own contents.
intact() {
	if [ "$(cat "$T/$1")" = "root's own $1" ] && [ "$(mode "$T/$1")" = "-rw-r--r-- root:root" ]; then
		pass "$2"
	else
		fail "$2"
		diag "$(mode "$T/$1")" "$(head -c 40 "$T/$1")"
	fi
}
# keygen_pid LINK-TARGET TEMP-NAME-DIR ARG...: run keygen as `run` does,
# after a link to LINK-TARGET was put, as the attacker, at the temporary
# name a keygen that used its process id would write first
# (DIR/.SELECTOR.new.PID): the pid is known in advance here, as an
# attacker can cover all of them.
keygen_pid() {
	_target=$1 _dir=$2
	shift 2
	rc=0
	sh -c 'setpriv --reuid="$1" --regid="$1" --clear-groups -- ln -s "$2" "$3/.s1.new.$$" || exit 9
		shift 3
		exec "$@"' sh "$A" "$_target" "$_dir" \
		"$S/qmail-dkim-keygen" -N "$@" >"$T/out" 2>"$T/err" || rc=$?
}
keygen() { run "$S/qmail-dkim-keygen" -N "$@"; }

# --- the attack: a user-owned domain directory --------------------------------
# Older guides hand control/domainkeys to qmailr; a user who owns the
# directory of a domain plants links at the names root is about to write.
home h1
chmod 0755 "$D"
mkdir "$D/a.example"
chown "$A:$A" "$D/a.example"
victim passwd
victim shadow
as_attacker ln -s "$T/passwd" "$D/a.example/s1"
keygen_pid "$T/shadow" "$D/a.example" -d "$H" -t ed25519 -f a.example s1
is "$rc" 1 "a domain directory owned by another uid is refused"
has "$T/err" "refusing to write under $D/a\.example: it belongs to uid $A" "the message names the directory and its owner"
has "$T/err" "Fix: chown root:qmail $D/a\.example; chmod 0750 $D/a\.example" "and gives the fix"
intact passwd "the file the key's name linked to is unchanged and still root's"
intact shadow "the file the temporary name linked to is unchanged and still root's"
if [ -L "$D/a.example/s1" ]; then pass "the planted link is left as it was"; else fail "the planted link is left as it was"; fi

home h2
mkdir "$D/b.example"
chown "$A:$A" "$D/b.example"
keygen -d "$H" -t ed25519 b.example
is "$rc" 1 "a user-owned domain directory is refused even with nothing planted"
if [ ! -e "$D/b.example/default" ]; then pass "and no key is made in it"; else fail "and no key is made in it"; fi

# chown -R qmailr control/domainkeys, as some guides say
home h3
chown -R "$A:$A" "$D"
keygen -d "$H" -t ed25519 c.example
is "$rc" 1 "a user-owned control/domainkeys is refused"
has "$T/err" "refusing to write under $D: it belongs to uid $A" "the message names control/domainkeys"
if [ ! -e "$D/c.example" ]; then pass "and nothing is made under it"; else fail "and nothing is made under it"; fi

home h4
mkdir -m 0770 "$D/d.example"
chown 0:qmail "$D/d.example"
chmod 0770 "$D/d.example"
keygen -d "$H" -t ed25519 d.example
is "$rc" 1 "a group-writable domain directory is refused"
has "$T/err" "it is writable by its group .*Fix: chown root:qmail $D/d\.example; chmod 0750 " "with the fix"
mkdir "$D/e.example"
chmod 1777 "$D/e.example"
keygen -d "$H" -t ed25519 e.example
is "$rc" 1 "a world-writable domain directory is refused, sticky or not"
has "$T/err" "it is writable by every user \(drwxrwxrwt\)" "with the reason"
chmod 0757 "$D"
keygen -d "$H" -t ed25519 f.example
is "$rc" 1 "a world-writable control/domainkeys is refused"
chmod 0750 "$D"
chown "$A" "$H/control"
keygen -d "$H" -t ed25519 f.example
is "$rc" 1 "a user-owned control/ is refused"
has "$T/err" "refusing to write under $H/control: .*Fix: chown root:qmail $H/control; chmod 0755 $H/control" "with the fix"
chown 0 "$H/control"
# a home inside a directory another user owns: they can swap it
mkdir -p "$T/users/h5"
chown "$A" "$T/users"
H=$T/users/h5
mkdir -p "$H/control"
keygen -d "$H" -t ed25519 g.example
is "$rc" 1 "a qmail home under a user-owned directory is refused"
has "$T/err" "refusing to write under $T/users: it belongs to uid $A.* or use a qmail home elsewhere" "and the directory is named"

# --- root-owned directories: what could still be there -------------------------------
# A link at the name a keygen that used its process id would write first
# (left while the directory was someone else's): the pid is known in
# advance here, the link put by root just before keygen starts. The new
# files are made in a directory of their own, so it is not followed.
home h6
mkdir "$D/h.example"
victim gshadow
rc=0
sh -c 'ln -s "$1" "$2/.s1.new.$$" || exit 9; shift 2; exec "$@"' sh "$T/gshadow" "$D/h.example" \
	"$S/qmail-dkim-keygen" -N -d "$H" -t ed25519 h.example s1 >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "a link at the pid's temporary name does not stop keygen"
intact gshadow "the file the predictable temporary name links to is unchanged"
is "$(mode "$D/h.example/s1")" "-r-------- qmailr:qmail" "the key is qmailr:qmail 0400"
ls -a "$D/h.example" >"$T/list"
has "$T/list" "^\.s1\.new\.[0-9]+$" "the link is still there, untouched"
is "$(grep -c '^\.keygen' "$T/list")" 0 "the temporary directory is gone"

# Links at the final names, left from when the directory was a user's.
victim sudoers
mkdir -p "$T/cron.d"
rm "$D/h.example/s1.txt"
ln -s "$T/sudoers" "$D/h.example/s1.txt"
keygen -d "$H" -t ed25519 -f h.example s1
is "$rc" 1 "a link at the .txt name is refused, even with -f"
has "$T/err" "$D/h\.example/s1\.txt is a symbolic link; .* does not write through links" "the message names the link"
intact sudoers "the file it links to is unchanged"
ln -s "$T/cron.d" "$D/h.example/i1.pub"
keygen -d "$H" -t ed25519 h.example i1
is "$rc" 1 "a link to a directory at the .pub name is refused"
is "$(find "$T/cron.d" -type f | wc -l | tr -d ' ')" 0 "and nothing is written into that directory"
ln -s "$T/sudoers" "$D/h.example/i2"
keygen -d "$H" -t ed25519 -f h.example i2
is "$rc" 1 "a link at the key's name is refused, even with -f"
intact sudoers "the file it links to is unchanged"
rm "$D/h.example/i2"
rm "$D/h.example/selector"
ln -s "$T/sudoers" "$D/h.example/selector"
keygen -d "$H" -t ed25519 h.example i3
is "$rc" 1 "a link at the selector file's name is refused"
intact sudoers "and the file it links to is unchanged"

# --- links that are safe: made by root, to root's directories --------------------------
home h7
mkdir -m 0750 "$T/keystore"
chown 0:qmail "$T/keystore"
rmdir "$D"
ln -s "$T/keystore" "$D"
keygen -d "$H" -t ed25519 j.example
is "$rc" 0 "control/domainkeys may be a link to a root-owned directory"
if [ -f "$T/keystore/j.example/default" ]; then pass "the key is made there"; else fail "the key is made there"; fi
has "$T/out" "wrote $T/keystore/j\.example/default " "and named by its real path"
mkdir "$T/userkeys"
chown "$A" "$T/userkeys"
ln -s "$T/userkeys" "$T/keystore/k.example"
keygen -d "$H" -t ed25519 k.example
is "$rc" 1 "a domain directory that is a link to a user's directory is refused"
has "$T/err" "refusing to write under $T/userkeys \(where .*/k\.example leads\): it belongs to uid $A" "the message names where the link leads"
# The home reached through a link in a user's directory: the user can
# change the link, so keygen works on the real path.
mkdir "$T/evil"
chown "$A" "$T/evil"
as_attacker ln -s "$H" "$T/evil/qmail"
keygen -d "$T/evil/qmail" -t ed25519 l.example
is "$rc" 0 "a home reached through a user's link is used by its real path"
if [ -f "$T/keystore/l.example/default" ]; then pass "the key is where the link led when checked"; else fail "the key is where the link led when checked"; fi

# --- the key and what keygen made still work -----------------------------------
if setpriv --reuid=qmailr --regid=qmail --clear-groups cat "$T/keystore/j.example/default" >/dev/null 2>&1; then
	pass "qmailr can read a key made this way"
else
	fail "qmailr can read a key made this way"
fi
is "$(mode "$T/keystore/j.example")" "drwxr-x--- root:qmail" "the domain directory is root:qmail 0750"
