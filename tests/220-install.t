#!/bin/sh
# 220-install.t: qmail-dkim-install swaps qmail-dkim in front of the real
# qmail-remote without a moment lacking one, is safe to run twice, refuses
# what it does not recognize, and -u puts back exactly what was there.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
plan 72
watcher='' sleeper=''
# stop_bg: the watcher and the fake qmail-rspawn, if still running.
stop_bg() {
	[ -z "$watcher" ] || kill "$watcher" 2>/dev/null
	[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null
}
at_exit stop_bg

same() { if cmp -s "$1" "$2"; then pass "$3"; else fail "$3"; fi; }
# shellcheck disable=SC2012 # the inode number, as ls -i prints it
inode() { ls -i "$1" | awk '{ print $1 }'; }
# tree: what is in bin/, with contents, for before/after comparisons
# shellcheck disable=SC2012 # modes and owners, as ls -l prints them
tree() { (cd "$1" && ls -lnA | awk 'NR > 1 { print $1, $3, $4, $5, $NF }' && cksum ./* ./.[!.]* 2>/dev/null); }

qmail_accounts

# A fake qmail: the "real" qmail-remote carries the text qmail-remote.c
# prints before an SMTP reply, which is how the installer knows it.
qmail_home
real_remote 'echo real'
printf '#!/bin/sh\necho dkim 1\n' >"$T/qmail-dkim"
chmod 0755 "$T/qmail-dkim"
real_inode=$(inode "$Q/bin/qmail-remote")
cp -p "$Q/bin/qmail-remote" "$T/real-copy"
before=$(tree "$Q/bin")
inst() { run "$S/qmail-dkim-install" -d "$Q" "$@"; }

# --- swap in --------------------------------------------------------------------
inst -b "$T/qmail-dkim"
is "$rc" 0 "install exits 0"
has "$T/out" "installed qmail-dkim as .*/bin/qmail-remote" "and says what it did"
same "$Q/bin/qmail-remote" "$T/qmail-dkim" "qmail-remote is now qmail-dkim"
same "$Q/bin/qmail-dkim" "$T/qmail-dkim" "a copy is kept as bin/qmail-dkim"
same "$Q/bin/qmail-remote.orig" "$T/real-copy" "qmail-remote.orig is the real qmail-remote"
is "$(inode "$Q/bin/qmail-remote.orig")" "$real_inode" "qmail-remote.orig is the very file (same inode)"
is "$(mode "$Q/bin/qmail-remote" | cut -c1-10)" "-rwx--x--x" "qmail-remote is mode 0711"
if [ "$(id -u)" -eq 0 ]; then
	is "$(mode "$Q/bin/qmail-remote" | cut -d' ' -f2)" "root:qmail" "qmail-remote is root:qmail"
else
	skip 1 "owner root:qmail: not root"
fi
has "$T/out" "QMAILDKIM_HOME=$Q" "a qmail home other than /var/qmail gets a QMAILDKIM_HOME note"

# --- twice: nothing to do, nothing changed -------------------------------------------
after=$(tree "$Q/bin")
inst -b "$T/qmail-dkim"
is "$rc" 0 "a second install exits 0"
has "$T/out" "already installed .* nothing to do" "and says there is nothing to do"
is "$(tree "$Q/bin")" "$after" "and changes nothing"
same "$Q/bin/qmail-remote.orig" "$T/real-copy" "qmail-remote.orig is still the real one"

# --- a new build: updated, the real one kept ---------------------------------------
printf '#!/bin/sh\necho dkim 2\n' >"$T/qmail-dkim"
inst -b "$T/qmail-dkim"
is "$rc" 0 "installing a new build exits 0"
has "$T/out" "updated qmail-dkim" "and says it updated"
same "$Q/bin/qmail-remote" "$T/qmail-dkim" "qmail-remote is the new build"
same "$Q/bin/qmail-remote.orig" "$T/real-copy" "qmail-remote.orig is still the real one"
is "$(find "$Q/bin" -name '.*' | wc -l | tr -d ' ')" 0 "no temporary file is left in bin/"

# --- uninstall ------------------------------------------------------------------------
inst -u -b "$T/qmail-dkim"
is "$rc" 0 "uninstall exits 0"
has "$T/out" "restored the real qmail-remote" "and says so"
is "$(tree "$Q/bin")" "$before" "bin/ is exactly as before the install"
is "$(inode "$Q/bin/qmail-remote")" "$real_inode" "qmail-remote is the very original file again"
inst -u
is "$rc" 0 "a second uninstall exits 0"
has "$T/out" "not installed .* nothing to do" "and says there is nothing to do"
is "$(tree "$Q/bin")" "$before" "and changes nothing"

# Install and uninstall a few times more while something looks for
# qmail-remote as fast as it can: it must never be missing.
: >"$T/missing"
(
	while :; do
		[ -e "$Q/bin/qmail-remote" ] || echo missing >>"$T/missing"
	done
) &
watcher=$!
for _ in 1 2 3; do
	inst -b "$T/qmail-dkim" && inst -u -b "$T/qmail-dkim"
done
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
watcher=
is "$(wc -l <"$T/missing" | tr -d ' ')" 0 "qmail-remote never went missing during installs and uninstalls"

# --- refusals: nothing changes -------------------------------------------------------
cat >"$Q/bin/qmail-remote" <<'EOF'
#!/bin/sh
# some other DKIM wrapper
exec /var/qmail/bin/qmail-remote.real "$@"
EOF
chmod 0755 "$Q/bin/qmail-remote"
other=$(tree "$Q/bin")
inst -b "$T/qmail-dkim"
is "$rc" 1 "an unrecognized qmail-remote is refused"
has "$T/err" "not a qmail-remote I recognize" "with the reason"
has "$T/err" " -F" "naming -F"
is "$(tree "$Q/bin")" "$other" "and nothing changed"
inst -F -b "$T/qmail-dkim"
is "$rc" 0 "-F takes it for the real one"
same "$Q/bin/qmail-remote" "$T/qmail-dkim" "qmail-dkim is in place"
inst -u -b "$T/qmail-dkim"
is "$rc" 0 "and -u puts it back"

cp -p "$T/real-copy" "$Q/bin/qmail-remote"
printf '#!/bin/sh\n# Remote host said: \necho older\n' >"$Q/bin/qmail-remote.orig"
two=$(tree "$Q/bin")
inst -b "$T/qmail-dkim"
is "$rc" 1 "two different real-looking programs are refused"
has "$T/err" "qmail-remote.orig exists and differs" "with the reason"
is "$(tree "$Q/bin")" "$two" "and nothing changed"
rm -f "$Q/bin/qmail-remote.orig" "$Q/bin/qmail-dkim"

cp "$T/qmail-dkim" "$Q/bin/qmail-remote"
inst -b "$T/qmail-dkim"
is "$rc" 1 "qmail-dkim as qmail-remote without qmail-remote.orig is refused"
has "$T/err" "qmail-remote.orig is missing" "with the reason"
if [ ! -e "$Q/bin/qmail-remote.orig" ]; then pass "qmail-dkim was not renamed to qmail-remote.orig"; else fail "qmail-dkim was not renamed to qmail-remote.orig"; fi
inst -u -b "$T/qmail-dkim"
is "$rc" 1 "and -u refuses too"
cp -p "$T/real-copy" "$Q/bin/qmail-remote"

inst -b "$T/no-such-binary"
is "$rc" 1 "a missing binary is refused"
has "$T/err" "no qmail-dkim binary at .*/no-such-binary" "with the reason"
inst -b "$T/real-copy"
is "$rc" 1 "installing qmail's own qmail-remote as qmail-dkim is refused"
run "$S/qmail-dkim-install" -d "$T/nowhere" -b "$T/qmail-dkim"
is "$rc" 1 "a qmail home without bin/ is refused"
has "$T/err" "no directory .*/nowhere/bin" "with the directory named"
is "$(tree "$Q/bin")" "$before" "after all refusals, bin/ is as it was"

# --- notqmail: QMAILREMOTE --------------------------------------------------------------
inst -n -b "$T/qmail-dkim"
is "$rc" 0 "install -n exits 0"
same "$Q/bin/qmail-dkim" "$T/qmail-dkim" "it installs bin/qmail-dkim"
same "$Q/bin/qmail-remote" "$T/real-copy" "and leaves qmail-remote alone"
if [ ! -e "$Q/bin/qmail-remote.orig" ]; then pass "no qmail-remote.orig"; else fail "no qmail-remote.orig"; fi
has "$T/out" "^  QMAILREMOTE=$Q/bin/qmail-dkim$" "it prints the QMAILREMOTE line"
inst -n -b "$T/qmail-dkim"
is "$rc" 0 "install -n twice exits 0"
has "$T/out" "up to date" "and says it is up to date"

# A running qmail-rspawn with QMAILREMOTE set blocks the swap and -u.
if [ -r /proc/self/environ ] && cp "$(command -v sleep)" "$T/qmail-rspawn" 2>/dev/null; then
	QMAILREMOTE=$Q/bin/qmail-dkim "$T/qmail-rspawn" 30 &
	sleeper=$!
	sleep 0.2
	inst -u -b "$T/qmail-dkim"
	is "$rc" 1 "-u is refused while qmail-rspawn runs with QMAILREMOTE"
	has "$T/err" "qmail-rspawn \(pid $sleeper\) runs with QMAILREMOTE=" "naming the process"
	if [ -e "$Q/bin/qmail-dkim" ]; then pass "bin/qmail-dkim is still there"; else fail "bin/qmail-dkim is still there"; fi
	rm -f "$Q/bin/qmail-dkim"
	inst -b "$T/qmail-dkim"
	is "$rc" 1 "swapping in is refused while qmail-rspawn runs with QMAILREMOTE"
	same "$Q/bin/qmail-remote" "$T/real-copy" "and qmail-remote is untouched"
	kill "$sleeper" 2>/dev/null
	wait "$sleeper" 2>/dev/null
	sleeper=
	inst -n -b "$T/qmail-dkim"
else
	skip 5 "no /proc to find qmail-rspawn in"
fi
inst -u -b "$T/qmail-dkim"
is "$rc" 0 "-u after -n exits 0"
has "$T/out" "qmail-remote was not touched" "and says qmail-remote was not touched"
is "$(tree "$Q/bin")" "$before" "bin/ is as before"

# Swapped in, -n is refused.
inst -b "$T/qmail-dkim"
inst -n -b "$T/qmail-dkim"
is "$rc" 1 "-n is refused while qmail-dkim is swapped in"
has "$T/err" "run qmail-dkim-install -u first" "with the way out"
inst -u -b "$T/qmail-dkim"

# --- DESTDIR, and the default binary from PREFIX -------------------------------------
mkdir -p "$T/stage/var/qmail/bin" "$T/stage/usr/local/bin"
cp -p "$T/real-copy" "$T/stage/var/qmail/bin/qmail-remote"
cp "$T/qmail-dkim" "$T/stage/usr/local/bin/qmail-dkim"
rc=0
DESTDIR=$T/stage "$S/qmail-dkim-install" -d /var/qmail >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "install under DESTDIR exits 0"
same "$T/stage/var/qmail/bin/qmail-remote" "$T/qmail-dkim" "DESTDIR is put in front of the qmail home and PREFIX"
same "$T/stage/var/qmail/bin/qmail-remote.orig" "$T/real-copy" "the real one is kept there"
rc=0
DESTDIR=$T/stage "$S/qmail-dkim-install" -d /var/qmail -n >"$T/out" 2>"$T/err" || rc=$?
has "$T/err" "run qmail-dkim-install -u first" "DESTDIR works for -n too"
rc=0
DESTDIR=$T/stage "$S/qmail-dkim-install" -d /var/qmail -u >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "uninstall under DESTDIR exits 0"
same "$T/stage/var/qmail/bin/qmail-remote" "$T/real-copy" "and puts the real one back"
mkdir -p "$T/stage2/var/qmail/bin"
cp -p "$T/real-copy" "$T/stage2/var/qmail/bin/qmail-remote"
rc=0
DESTDIR=$T/stage2 "$S/qmail-dkim-install" -d /var/qmail -n -b "$T/qmail-dkim" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "install -n under DESTDIR exits 0"
has "$T/out" "^  QMAILREMOTE=/var/qmail/bin/qmail-dkim$" "the printed QMAILREMOTE leaves DESTDIR out"
same "$T/stage2/var/qmail/bin/qmail-dkim" "$T/qmail-dkim" "and the binary is under DESTDIR"

