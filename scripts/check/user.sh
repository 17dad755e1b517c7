# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: a user's own keys, for qmail-dkim-queue (-k).

# ---- a user's own keys (qmail-dkim-queue) ------------------------------------

# judge_user PATH PERMS UID MODE: a user's key or key directory is the
# user's, and nobody else's to read or change; MODE is the fix's mode.
judge_user() {
	what=$1
	[ -d "$1" ] && what="$1/"
	if [ "$3" -ne "$myuid" ]; then
		fail "key: $what belongs to uid $3, not to you (uid $myuid): it can replace your key"
		fix "make your own: mkdir -m 0700, and $kg"
		return 0
	fi
	case $2 in
	????????w*)
		fail "key: $what is writable by every user ($2): qmail-dkim-queue does not use it, and others can replace the key"
		;;
	???????r* | ?????????x*)
		if [ -d "$1" ]; then
			warn "key: $what is open to every user ($2): keep your keys to yourself"
		else
			fail "key: $what is readable by every user ($2): they can sign as $kdomain"
		fi
		;;
	?????w*) fail "key: $what is writable by its group ($2): they can replace the key" ;;
	????r*)
		if [ -d "$1" ]; then
			ok "key: $what is yours, closed to others but its group ($2)"
			return 0
		fi
		warn "key: $what is readable by its group ($2): only you need to read it"
		;;
	*)
		ok "key: $what is yours alone ($2)"
		return 0
		;;
	esac
	fix "chmod $4 $1"
}

# check_user_dirs: the key directory and the domain's are the user's own,
# real directories (keygen follows no link in them).
check_user_dirs() {
	for ud in "$kroot" ${kdomain:+"$kroot/$kdomain"}; do
		[ -d "$ud" ] || continue
		if [ -L "$ud" ]; then
			warn "key: $ud is a symbolic link: $kg does not follow it"
			fix "give the directory it leads to with -k, or make $ud a directory"
			continue
		fi
		# shellcheck disable=SC2012,SC2046 # ls -l is the portable way to read the owner
		set -- $(ls -lnd "$ud")
		judge_user "$ud" "$1" "$3" 0700
	done
}

# check_qmailqueue: does this host's qmail-inject honour QMAILQUEUE?
check_qmailqueue() {
	inj=$home/bin/qmail-inject
	if [ ! -r "$inj" ]; then
		[ ! -e "$inj" ] || ok "queue: cannot read $inj to see whether it honours QMAILQUEUE; step E of INSTALL's \"Without root\" shows it"
		return 0
	fi
	if grep -q QMAILQUEUE "$inj"; then
		ok "queue: $inj honours QMAILQUEUE, so qmail-dkim-queue can sign what it injects"
	else
		fail "queue: $inj does not know QMAILQUEUE (a qmail 1.03 without the patch): qmail-dkim-queue is never run, mail goes out unsigned"
		fix "ask the host to sign with qmail-dkim, or to install netqmail or notqmail"
	fi
}

# check_queue_signature: qmail-dkim-queue signs the sample with the
# user's keys, the real qmail-queue replaced by cat; the message it
# would queue is verified as the receiver will see it.
check_queue_signature() {
	if [ -z "$bin" ]; then
		for b in "$(dirname "$0")/qmail-dkim-queue" "${HOME:-/nonexistent}/bin/qmail-dkim-queue" \
			"${PREFIX:-/usr/local}/bin/qmail-dkim-queue" "$home/bin/qmail-dkim-queue"; do
			if [ -f "$b" ] && [ -x "$b" ]; then
				bin=$b
				break
			fi
		done
	fi
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		warn "signature: no qmail-dkim-queue binary${bin:+ at $bin}, so no test signature"
		fix "put qmail-dkim-queue in ~/bin, or name it with -b BINARY"
		return 0
	fi
	if ! have_dkimpy; then
		warn "signature: no dkimpy to verify a test signature with"
		fix "ask the host for python3-dkim, or try step E of INSTALL's \"Without root\""
		return 0
	fi
	make_sample
	h=$work/qhome
	mkdir -p "$h/out" "$h/tmp"
	# the sample as qmail-inject gives it: no qmail-queue or qmail-smtpd
	# Received line
	sed 1,3d "$work/sample" >"$work/injected"
	rc=0
	env - PATH=/usr/bin:/bin TMPDIR="$h/tmp" QMAILDKIM_KEYS="$kroot" \
		QMAILDKIM_QUEUE=/bin/cat "$bin" <"$work/injected" \
		>"$h/out/message" 2>"$h/out/stderr" || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "signature: $bin exited $rc with cat as qmail-queue (qmail-inject calls that \"qq\" trouble, and keeps the message): $(tr '\n' ' ' <"$h/out/stderr")"
		return 0
	fi
	if [ -s "$h/out/stderr" ]; then
		fail "signature: $bin wrote on its descriptor 2, which is qmail-inject's: $(tr '\n' ' ' <"$h/out/stderr")"
	fi
	nsig=$(grep -c -i '^DKIM-Signature:' "$h/out/message" || :)
	if [ "$nsig" -eq 0 ]; then
		fail "signature: qmail-dkim-queue passed the test message on unsigned"
		fix "its reason is in the mail log (qmail-dkim-queue: uid $myuid: not signed: ...); see qmail-dkim-queue(8)"
		return 0
	fi
	verify_kept signature qmail-dkim-queue
}
