#!/bin/sh
# Resource limits and signals: too few descriptors for the key, the spool
# or the pipe; no fork for the writer; too little memory; a file-size limit
# on the spool; SIGCHLD ignored by the launcher; killed at any moment.
# The contract as in tests/faults.sh, and never a process or a temporary
# file left behind.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 35
# Under a sanitizer or valgrind ($QDKIM_WRAPPED) the descriptor and memory
# limits measure the tool, not qmail-dkim: those parts are skipped.

M=$TOP/tests/msg/simple.eml

setup_home notqmail
make_key example.com
big_message "$T/big.eml" 4

# --- descriptors -------------------------------------------------------------
# 3 leaves the dynamic loader none (see the shared library case below); 4
# one for the key and none for the pipe(2) of the hand-over, 5 none for
# that pipe when the spool holds one; 6 is enough.

if [ -n "$QDKIM_WRAPPED" ]; then
	skip 13 "RLIMIT_NOFILE: qmail-dkim runs under $QDKIM_WRAPPED"
else
	for n in 4 5 6 8; do
		fdeliver --rlimit=NOFILE=$n "$M"
		outcome "RLIMIT_NOFILE $n, queue file" "$M"
		fdeliver --stdin-pipe --rlimit=NOFILE=$n "$M"
		outcome "RLIMIT_NOFILE $n, pipe" "$M"
		fdeliver --rlimit=NOFILE=$n "$T/big.eml"
		outcome "RLIMIT_NOFILE $n, large message" "$T/big.eml"
	done
	# 4: the key is read, then pipe() finds no room
	fdeliver --rlimit=NOFILE=4 "$M"
	deferred_for "RLIMIT_NOFILE 4" "cannot make a pipe: Too many open files"
fi

# --- fork: the detached writer of a large message ---------------------------
# RLIMIT_NPROC binds only a user without privileges, and counts all of the
# user's processes: a uid of its own, that runs nothing else.  1 fails the
# first fork, 2 the second (the writer's own).

U=61234:61234
if can_setuid "$U" && ! pgrep -U "${U%:*}" >/dev/null; then
	user_home
	make_key example.com
	chmod 644 "$T/qmail/control/domainkeys/example.com/default"
	for n in 1 2; do
		fdeliver --user=$U --rlimit=NPROC=$n "$T/big.eml"
		outcome "RLIMIT_NPROC $n, large message" "$T/big.eml" deferred
		deferred_for "RLIMIT_NPROC $n" "fork"
	done
	fdeliver --user=$U --rlimit=NPROC=1 "$M"
	outcome "RLIMIT_NPROC 1, small message (no fork needed)" "$M" signed
else
	skip 5 "not root, or uid ${U%:*} in use: cannot limit processes"
fi

# --- memory -----------------------------------------------------------------
# RLIMIT_AS from too little for the dynamic loader to map the libraries,
# up in 128 KiB steps, through malloc() and OpenSSL failing, to enough to
# sign: every step after the loader's keeps the contract.  The real one is
# tests/sink, which needs almost nothing.

setup_home notqmail
make_key example.com
cp "$TOP/tests/sink" "$T/qmail/bin/qmail-remote.orig"
S=$T/qmail/bin/qmail-remote.orig
# sink_out: sink's record of the message where what_happened looks for it.
sink_out() {
	if [ -e "$S.stdin" ]; then
		mv "$S.stdin" "$T/out/stdin"
		printf 'example.net\0' >"$T/out/argv"
		sed 's/$/\r/' "$T/out/stdin" >"$T/out/wire"
	fi
}
if [ -n "$QDKIM_WRAPPED" ]; then
	skip 3 "RLIMIT_AS: qmail-dkim runs under $QDKIM_WRAPPED"
else
	kb=8192 loader=0 steps=0 signed=0 broken=''
	while [ "$signed" -lt 2 ] && [ "$kb" -le 32768 ]; do
		fdeliver --rlimit=AS=$((kb * 1024)) "$M"
		sink_out
		if [ "$(cat "$T/out/status")" = 127 ] && grep -qE 'error while loading shared libraries|cannot allocate TLS' "$T/out/report"; then
			loader=$((loader + 1))
		else
			steps=$((steps + 1))
			got=$(what_happened "$M")
			case $got in
			signed) signed=$((signed + 1)) ;;
			broken:*) broken="$broken${broken:+; }$kb KiB: $got" ;;
			esac
		fi
		kb=$((kb + 128))
	done
	is "$broken" "" "RLIMIT_AS: $steps steps past the loader, each kept the contract"
	ok "RLIMIT_AS: it came to signing" test "$signed" -eq 2
	ok "RLIMIT_AS: some steps were below what signing needs" test "$steps" -gt 2
fi

# --- a file-size limit on the spool ------------------------------------------
# The write past the limit raises SIGXFSZ, whose default kills; qmail then
# logs "crashed" and retries, but the contract wants a Z record saying why.

fdeliver --stdin-pipe --rlimit=FSIZE=65536 "$T/big.eml"
outcome "RLIMIT_FSIZE below the message, pipe" "$T/big.eml" deferred

# --- SIGCHLD ignored by the launcher -------------------------------------------
# The ignored disposition survives exec; waitpid() for the writer's parent
# then fails with ECHILD, and every large signed message is deferred for
# ever.

setup_home notqmail
make_key example.com
fdeliver --sigchld-ignore "$T/big.eml"
outcome "SIGCHLD ignored, large message" "$T/big.eml" signed
fdeliver --sigchld-ignore "$M"
outcome "SIGCHLD ignored, small message" "$M" signed

# --- a shared library that cannot be loaded ------------------------------------
# As after `apt autoremove` takes libopendkim11 away (a program built from
# source holds no package dependency on it): the loader writes to fd 2,
# the report pipe, and exits 127, which makes qmail-send bounce the message.

setup_home notqmail
make_key example.com
mkdir "$T/lib" && : >"$T/lib/libopendkim.so.11"
fdeliver --env="LD_LIBRARY_PATH=$T/lib" "$M"
outcome "libopendkim.so.11 cannot be loaded" "$M"

# --- killed at any moment ----------------------------------------------------
# A 40 MB message on a pipe: spooled, signed, written by the writer to a
# stand-in that reads it all; the kill lands in each phase in turn.

set_fault_remote
big_message "$T/huge.eml" 40
for at in 0.01 0.05 0.15 0.3 0.6; do
	for sig in KILL TERM; do
		fdeliver --stdin-pipe --kill-after="$at:$sig" "$T/huge.eml"
		outcome_killed "SIG$sig after ${at}s" "$T/huge.eml"
	done
done
