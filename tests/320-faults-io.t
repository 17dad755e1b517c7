#!/bin/sh
# Faults on the way in and on the way out: fd 0 closed, unreadable, a
# directory, a pipe that breaks mid-message; the spool for a pipe
# impossible; the real qmail-remote missing in new ways, refusing without
# reading, killed mid-message.  The contract as in tests/faults.sh; the
# detached writer that feeds a large message must never be left behind.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 34

M=$TOP/tests/msg/simple.eml

setup_home notqmail
make_key example.com
big_message "$T/big.eml" 4 # larger than a pipe: the writer runs

# --- fd 0 ------------------------------------------------------------------

# valgrind ($QDKIM_WRAPPED) takes a closed fd 0 for its own files, needs
# TMPDIR for its own, and exits 101 where execve() fails with ENOENT:
# those cases would test valgrind.
vg() { [ "$QDKIM_WRAPPED" = valgrind ]; }

if vg; then skip 2 "fd 0 closed: valgrind opens it"; else
	fdeliver --stdin-closed "$M"
	outcome "fd 0 closed" "$M" deferred
	deferred_for "fd 0 closed" "fd 0"
fi

mkdir "$T/dir"
fdeliver "$T/dir"
outcome "fd 0 a directory" /dev/null deferred
deferred_for "fd 0 a directory" "directory"

fdeliver --stdin-wronly "$M"
outcome "fd 0 open for writing only" "$M" deferred
deferred_for "fd 0 open for writing only" "read"

fdeliver /dev/null
outcome "fd 0 /dev/null (neither a file nor a pipe)" /dev/null unsigned

# The writer into the pipe dies mid-message: what came is all there is.
hdr=$(sed '/^$/q' "$T/big.eml" | wc -c)
for cut in 50 200 300 100000 $((hdr + 77 * 500)); do
	head -c "$cut" "$T/big.eml" >"$T/cut.eml"
	fdeliver --stdin-pipe --stdin-cut="$cut" "$T/big.eml"
	outcome "a pipe on fd 0 that breaks after $cut bytes" "$T/cut.eml"
done

# --- the spool for a pipe ----------------------------------------------------

if vg; then skip 2 "TMPDIR: valgrind needs it"; else
	fdeliver --stdin-pipe --env="TMPDIR=$T/nonexistent" "$M"
	outcome "TMPDIR does not exist" "$M" deferred
	deferred_for "TMPDIR does not exist" "temporary file"
fi

if [ "$(id -u)" -eq 0 ]; then
	fdeliver --stdin-pipe --tmpfs="$T/tmp:64k" "$T/big.eml"
	outcome "TMPDIR on a full file system" "$T/big.eml" deferred
	deferred_for "TMPDIR on a full file system" "No space left"
else
	skip 2 "not root: cannot mount a small tmpfs"
fi

if can_setuid; then
	user_home
	make_key example.com
	chmod 644 "$T/qmail/control/domainkeys/example.com/default"
	mkdir -m 755 "$T/ro"
	if vg; then skip 2 "TMPDIR: valgrind needs it"; else
		fdeliver --stdin-pipe --user=nobody --env="TMPDIR=$T/ro" "$M"
		outcome "as nobody, TMPDIR not writable" "$M" deferred
		deferred_for "as nobody, TMPDIR not writable" "temporary file"
	fi
	fdeliver --stdin-pipe --user=nobody "$M"
	outcome "as nobody, a pipe spooled to TMPDIR" "$M" signed
else
	skip 3 "not root: cannot run qmail-dkim as nobody"
fi

# --- the real qmail-remote ---------------------------------------------------

setup_home notqmail
make_key example.com
R=$T/qmail/bin/qmail-remote.orig
for m in "$M" "$T/big.eml"; do
	size=small
	[ "$m" = "$M" ] || size=large
	rm -f "$R" && mkdir "$R"
	if vg; then skip 1 "an exec that fails: under valgrind posix_spawn's child exits 127"; else
		fdeliver "$m"
		outcome "a directory as the real qmail-remote, $size message" "$m" deferred
	fi
	rm -rf "$R" && printf '#!/nonexistent/interpreter\n' >"$R" && chmod 755 "$R"
	if vg; then skip 1 "a missing interpreter: valgrind exits 101"; else
		fdeliver "$m"
		outcome "a real qmail-remote with a missing interpreter, $size message" "$m" deferred
	fi
done
: >"$R" && chmod 755 "$R"
if vg; then skip 1 "an exec that fails: under valgrind posix_spawn's child exits 127"; else
	fdeliver "$M"
	outcome "an empty file as the real qmail-remote" "$M" deferred
fi
rm "$R" && ln -s "$QDKIM" "$R"
fdeliver "$M"
outcome "a symlink to qmail-dkim as the real qmail-remote" "$M" deferred
deferred_for "a symlink to qmail-dkim as the real qmail-remote" "qmail-dkim itself"
rm "$R" && : >"$R"
chmod 644 "$R"
fdeliver "$M"
outcome "a real qmail-remote without x bits" "$M" deferred

# It refuses every recipient and exits without reading: the writer, blocked
# on a full pipe, must see EPIPE and go.
set_remote notqmail --refuse
fdeliver "$T/big.eml"
outcome "the real one refuses without reading a large signed message" "$T/big.eml" refused
fdeliver --stdin-pipe "$T/big.eml"
outcome "the same, the message on a pipe" "$T/big.eml" refused

# It is killed mid-message.
for after in 0 65536 1000000; do
	set_fault_remote --die-after "$after"
	fdeliver "$T/big.eml"
	outcome_killed "the real one killed after reading $after bytes" "$T/big.eml"
done
set_fault_remote
fdeliver "$T/big.eml"
outcome "fault-remote.py reads it all" "$T/big.eml" delivered

# --- the queue file fails under the writer --------------------------------------
# The detached writer feeds the real qmail-remote after the exec.  When its
# read fails (here the file ends early, as a read error would end it), the
# real one must not finish the SMTP transaction with what it got: that
# delivers a cut message whose signature fails, and qmail logs a success.
# The writer stops without taking back its token: the real one's next read
# fails, and like qmail-remote's blast() it writes a Z record (or, were it
# killed, qmail-send would defer it as crashed).
setup_home notqmail
make_key example.com
big_message "$T/shrink.eml" 4
cp "$T/shrink.eml" "$T/whole.eml"
set_fault_remote --pause-after 1048576 --keep-head 4096
fdeliver "$T/shrink.eml" &
i=0
while [ ! -e "$T/out/paused" ] && [ $i -lt 1000 ]; do sleep 0.02 && i=$((i + 1)); done
hdr=$(sed '/^$/q' "$T/whole.eml" | wc -c)
truncate -s $((hdr + 77 * 30000)) "$T/shrink.eml"
touch "$T/out/resume"
wait
perl -0777 -ne 'm/\A((?:DKIM-Signature:.*?\n(?![ \t]))+)/s and print $1' "$T/out/stdin.head" >"$T/sig" 2>/dev/null
whole=$(cat "$T/sig" "$T/whole.eml" | sha256sum | cut -d' ' -f1)
st=$(cat "$T/out/status")
case $st in
signal*) got="the real one was killed ($st): deferred" ;;
*) if [ "$st" = 0 ] && perl -0777 -ne 'exit !/\A(?:r\0)+ZUnable to read message\. \(#4\.3\.0\)(?: DKIM signed d=[^\0\n]*)?\n\0\z/' "$T/out/report"; then
	got="the real one's read failed: deferred"
elif [ "$(cat "$T/out/stdin.sha256" 2>/dev/null)" = "$whole" ]; then got="the whole message went out"; else
	got="status $st, report '$(report_text)', $(cat "$T/out/stdin.size") bytes of $(($(wc -c <"$T/sig") + $(wc -c <"$T/whole.eml"))) went out"
fi ;;
esac
case $got in
*": deferred" | "the whole message went out") pass "the queue file cut under the writer: $got" ;;
*)
	fail "the queue file cut under the writer"
	diag "$got"
	;;
esac
