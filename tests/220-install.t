#!/bin/sh
# 220-install.t: qmail-dkim-install swaps qmail-dkim (or, with -c,
# qmail-dkimc) in front of the real qmail-remote without a moment lacking
# one, is safe to run twice, switches between the two, refuses what it does
# not recognize, and -u puts back exactly what was there.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
plan 154
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


# --- daemon mode (-c): qmail-dkimc swapped in, qmail-dkim as its fallback -------------
is "$(tree "$Q/bin")" "$before" "bin/ is as before for -c"
printf '#!/bin/sh\necho dkimc 1\n' >"$T/qmail-dkimc"
printf '#!/bin/sh\necho dkimd 1\n' >"$T/qmail-dkimd"
chmod 0755 "$T/qmail-dkimc" "$T/qmail-dkimd"
inst -c -b "$T/qmail-dkim"
is "$rc" 0 "install -c exits 0"
has "$T/out" "installed qmail-dkimc as .*/bin/qmail-remote" "and says qmail-dkimc is qmail-remote"
same "$Q/bin/qmail-remote" "$T/qmail-dkimc" "qmail-remote is now qmail-dkimc"
same "$Q/bin/qmail-dkimc" "$T/qmail-dkimc" "a copy is kept as bin/qmail-dkimc"
same "$Q/bin/qmail-dkim" "$T/qmail-dkim" "qmail-dkim, the fallback, is bin/qmail-dkim"
same "$Q/bin/qmail-dkimd" "$T/qmail-dkimd" "qmail-dkimd is bin/qmail-dkimd, taken from beside -b's binary"
is "$(mode "$Q/bin/qmail-dkimd" | cut -c1-10)" "-rwx--x--x" "bin/qmail-dkimd is mode 0711"
same "$Q/bin/qmail-remote.orig" "$T/real-copy" "qmail-remote.orig is the real qmail-remote"
is "$(inode "$Q/bin/qmail-remote.orig")" "$real_inode" "and the very file"
has "$T/out" "^  mkdir -m 0700 $Q/dkimd$" "it prints how to make the socket's directory"
has "$T/out" "^  chown qmailr:qmail $Q/dkimd$" "owned by qmailr"
has "$T/out" "^  exec setuidgid qmailr $Q/bin/qmail-dkimd $Q/dkimd/socket$" "the run script's line"
has "$T/out" "^  echo $Q/dkimd/socket > $Q/control/dkimsocket$" "and control/dkimsocket"
has "$T/out" "and to qmail-dkimd's" "the QMAILDKIM_HOME note names qmail-dkimd"

after=$(tree "$Q/bin")
inst -c -b "$T/qmail-dkim"
is "$rc" 0 "a second install -c exits 0"
has "$T/out" "qmail-dkimc is already installed .* nothing to do" "and says there is nothing to do"
is "$(tree "$Q/bin")" "$after" "and changes nothing"

# With control/dkimsocket naming a socket that is there, nothing is left to do
# but restart qmail-dkimd after a new build of it.
if "$PY" -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind(sys.argv[1])' "$T/sock" 2>/dev/null; then
	echo "$T/sock" >"$Q/control/dkimsocket"
	printf '#!/bin/sh\necho dkimd 2\n' >"$T/qmail-dkimd"
	inst -c -b "$T/qmail-dkim"
	is "$rc" 0 "installing a new qmail-dkimd exits 0"
	same "$Q/bin/qmail-dkimd" "$T/qmail-dkimd" "bin/qmail-dkimd is the new build"
	has "$T/out" "asks qmail-dkimd at $T/sock" "it sees control/dkimsocket in use"
	has "$T/out" "restart qmail-dkimd" "and says to restart qmail-dkimd"
	lacks "$T/out" "mkdir" "and no longer prints the set-up steps"
	rm -f "$T/sock"
else
	skip 5 "cannot make a socket with $PY"
fi

# --- switching between qmail-dkim and qmail-dkimc ----------------------------------------
inst -b "$T/qmail-dkim"
is "$rc" 0 "install without -c over -c exits 0"
has "$T/out" "switched .*/bin/qmail-remote from qmail-dkimc to qmail-dkim" "and says it switched"
same "$Q/bin/qmail-remote" "$T/qmail-dkim" "qmail-remote is qmail-dkim again"
same "$Q/bin/qmail-remote.orig" "$T/real-copy" "qmail-remote.orig is still the real one"
if [ ! -e "$Q/bin/qmail-dkimc" ] && [ ! -e "$Q/bin/qmail-dkimd" ]; then pass "bin/qmail-dkimc and bin/qmail-dkimd are gone"; else fail "bin/qmail-dkimc and bin/qmail-dkimd are gone"; fi
has "$T/out" "if it runs, stop it" "it says to stop qmail-dkimd"
has "$T/out" "remove $Q/control/dkimsocket" "and to remove control/dkimsocket"
rm -f "$Q/control/dkimsocket"
inst -c -b "$T/qmail-dkim"
is "$rc" 0 "install -c over qmail-dkim exits 0"
has "$T/out" "switched .*/bin/qmail-remote from qmail-dkim to qmail-dkimc" "and says it switched"
same "$Q/bin/qmail-remote" "$T/qmail-dkimc" "qmail-remote is qmail-dkimc again"
is "$(find "$Q/bin" -name '.*' | wc -l | tr -d ' ')" 0 "no temporary file is left in bin/"

: >"$T/missing"
(
	while :; do
		[ -e "$Q/bin/qmail-remote" ] || echo missing >>"$T/missing"
	done
) &
watcher=$!
for _ in 1 2 3; do
	inst -b "$T/qmail-dkim" && inst -c -b "$T/qmail-dkim"
done
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
watcher=
is "$(wc -l <"$T/missing" | tr -d ' ')" 0 "qmail-remote never went missing while switching"
same "$Q/bin/qmail-remote.orig" "$T/real-copy" "and qmail-remote.orig is still the real one"

# qmail-remote identical to bin/qmail-dkimc is ours, whatever -b names.
inst -u -b "$T/nowhere/qmail-dkim"
is "$rc" 0 "uninstall from -c exits 0"
has "$T/out" "restored the real qmail-remote" "and says so"
is "$(tree "$Q/bin")" "$before" "bin/ is exactly as before the install"
is "$(inode "$Q/bin/qmail-remote")" "$real_inode" "qmail-remote is the very original file again"

# --- -c refusals ---------------------------------------------------------------------------
mkdir "$T/half"
cp -p "$T/qmail-dkim" "$T/qmail-dkimc" "$T/half/"
inst -c -b "$T/half/qmail-dkim"
is "$rc" 1 "-c without qmail-dkimd beside the binary is refused"
has "$T/err" "no qmail-dkimd binary at $T/half/qmail-dkimd" "with the reason"
cp -p "$T/qmail-dkimd" "$T/half/"
cp -p "$T/qmail-dkim" "$T/half/qmail-dkimc"
inst -c -b "$T/half/qmail-dkim"
is "$rc" 1 "-c with qmail-dkimc the same as qmail-dkim is refused"
has "$T/err" "same program" "with the reason"
is "$(tree "$Q/bin")" "$before" "and nothing changed"

# --- -n -c: QMAILREMOTE names qmail-dkimc ----------------------------------------------------
inst -n -c -b "$T/qmail-dkim"
is "$rc" 0 "install -n -c exits 0"
same "$Q/bin/qmail-remote" "$T/real-copy" "it leaves qmail-remote alone"
same "$Q/bin/qmail-dkimc" "$T/qmail-dkimc" "it installs bin/qmail-dkimc"
same "$Q/bin/qmail-dkimd" "$T/qmail-dkimd" "and bin/qmail-dkimd"
same "$Q/bin/qmail-dkim" "$T/qmail-dkim" "and bin/qmail-dkim"
has "$T/out" "^  QMAILREMOTE=$Q/bin/qmail-dkimc$" "it prints QMAILREMOTE naming qmail-dkimc"
has "$T/out" "exec setuidgid qmailr $Q/bin/qmail-dkimd" "and the run script's line"
inst -n -c -b "$T/qmail-dkim"
is "$rc" 0 "install -n -c twice exits 0"
has "$T/out" "up to date" "and says it is up to date"
inst -c -b "$T/qmail-dkim"
same "$Q/bin/qmail-remote" "$T/qmail-dkimc" "swapping in after -n -c works"
inst -n -c -b "$T/qmail-dkim"
is "$rc" 1 "-n -c is refused while qmail-dkimc is swapped in"
has "$T/err" "run qmail-dkim-install -u first" "with the way out"
inst -u -b "$T/qmail-dkim"
inst -n -c -b "$T/qmail-dkim"

if [ -r /proc/self/environ ] && [ -x "$T/qmail-rspawn" ]; then
	QMAILREMOTE=$Q/bin/qmail-dkimc "$T/qmail-rspawn" 30 &
	sleeper=$!
	sleep 0.2
	inst -n -b "$T/qmail-dkim"
	is "$rc" 0 "-n while qmail-rspawn runs qmail-dkimc exits 0"
	if [ -e "$Q/bin/qmail-dkimc" ]; then pass "and keeps bin/qmail-dkimc"; else fail "and keeps bin/qmail-dkimc"; fi
	has "$T/out" "kept .*qmail-dkimc.*pid $sleeper" "saying why"
	kill "$sleeper" 2>/dev/null
	wait "$sleeper" 2>/dev/null
	sleeper=
else
	skip 3 "no /proc to find qmail-rspawn in"
fi
inst -n -b "$T/qmail-dkim"
is "$rc" 0 "-n after -n -c exits 0"
if [ ! -e "$Q/bin/qmail-dkimc" ] && [ ! -e "$Q/bin/qmail-dkimd" ]; then pass "it removes bin/qmail-dkimc and bin/qmail-dkimd"; else fail "it removes bin/qmail-dkimc and bin/qmail-dkimd"; fi
has "$T/out" "^  QMAILREMOTE=$Q/bin/qmail-dkim$" "and prints QMAILREMOTE naming qmail-dkim"
inst -n -c -b "$T/qmail-dkim"
inst -u -b "$T/qmail-dkim"
is "$rc" 0 "-u after -n -c exits 0"
is "$(tree "$Q/bin")" "$before" "bin/ is exactly as before"

# --- -c under DESTDIR, the binaries from PREFIX ---------------------------------------------
mkdir -p "$T/stage3/var/qmail/bin" "$T/stage3/usr/local/bin"
cp -p "$T/real-copy" "$T/stage3/var/qmail/bin/qmail-remote"
cp "$T/qmail-dkim" "$T/qmail-dkimc" "$T/qmail-dkimd" "$T/stage3/usr/local/bin/"
rc=0
DESTDIR=$T/stage3 "$S/qmail-dkim-install" -d /var/qmail -c >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "install -c under DESTDIR exits 0"
same "$T/stage3/var/qmail/bin/qmail-remote" "$T/qmail-dkimc" "qmail-dkimc comes from beside PREFIX's qmail-dkim"
same "$T/stage3/var/qmail/bin/qmail-dkimd" "$T/qmail-dkimd" "and qmail-dkimd"
has "$T/out" "^  exec setuidgid qmailr /var/qmail/bin/qmail-dkimd /var/qmail/dkimd/socket$" "the printed paths leave DESTDIR out"
rc=0
DESTDIR=$T/stage3 "$S/qmail-dkim-install" -d /var/qmail -u >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "uninstall -c under DESTDIR exits 0"
is "$(ls "$T/stage3/var/qmail/bin")" "qmail-remote" "and leaves only qmail-remote"
same "$T/stage3/var/qmail/bin/qmail-remote" "$T/real-copy" "the real one"

# --- without -b, from any directory -------------------------------------------------------------
# Beside the script, as make install and the make dist tarball put them.
mkdir -p "$T/kit/bin" "$T/elsewhere"
cp "$S/qmail-dkim-install" "$T/kit/bin/"
cp -p "$T/qmail-dkim" "$T/kit/bin/"
rc=0
(cd "$T/elsewhere" && env -u PREFIX -u DESTDIR "$T/kit/bin/qmail-dkim-install" -d "$Q") \
	>"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "from another directory, the qmail-dkim beside the script is found"
same "$Q/bin/qmail-remote" "$T/qmail-dkim" "and installed"
rc=0
(cd "$T/elsewhere" && PATH=$T/kit/bin:$PATH && env -u PREFIX -u DESTDIR qmail-dkim-install -d "$Q" -u) \
	>"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "run from PATH, -u works"
is "$(tree "$Q/bin")" "$before" "and bin/ is as before"
# None anywhere: it says where it looked.
rm "$T/kit/bin/qmail-dkim"
rc=0
(cd "$T/elsewhere" && PREFIX=$T/none "$T/kit/bin/qmail-dkim-install" -d "$Q") \
	>"$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "no qmail-dkim anywhere: refused"
has "$T/err" "looked in $T/none/bin, $T/kit/bin, $T/kit/bin/../qmail-dkim" "saying where it looked"
is "$(tree "$Q/bin")" "$before" "and nothing changed"
rc=0
(cd "$T/elsewhere" && PREFIX=$T/none "$T/kit/bin/qmail-dkim-install" -d "$Q" -u) \
	>"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "-u needs no qmail-dkim binary"
# The source tree's, whatever the current directory.
if [ -x "$TOP/qmail-dkim/qmail-dkim" ]; then
	rc=0
	(cd "$T/elsewhere" && PREFIX=$T/none "$S/qmail-dkim-install" -d "$Q") >"$T/out" 2>"$T/err" || rc=$?
	is "$rc" 0 "the script in the source tree finds the built qmail-dkim from another directory"
	same "$Q/bin/qmail-remote" "$TOP/qmail-dkim/qmail-dkim" "and installs it"
	inst -u
else
	skip 2 "qmail-dkim not built"
fi
