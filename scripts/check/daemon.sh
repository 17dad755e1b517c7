# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: qmail-dkimd and qmail-dkimc (daemon mode).

# ---- qmail-dkimd (daemon mode) ---------------------------------------------

# rspawn_qmailremote: notqmail's qmail-rspawn runs $QMAILREMOTE when it is
# set; prints "PID PROGRAM" for a running one that has it.
rspawn_qmailremote() {
	for p in /proc/[0-9]*; do
		comm=
		read -r comm 2>/dev/null <"$p/comm" || continue
		[ "$comm" = qmail-rspawn ] || continue
		v=$(tr '\000' '\n' <"$p/environ" 2>/dev/null |
			sed -n 's/^QMAILREMOTE=//p' | sed -n 1p) || continue
		if [ -n "$v" ]; then
			printf '%s %s\n' "${p#/proc/}" "$v"
			return 0
		fi
	done
	return 1
}

# check_daemon: when qmail-dkimc is qmail-remote (qmail-dkim-install -c)
# or control/dkimsocket exists, whether qmail-dkimd answers qmail-dkimc
# run as $user, and signs as qmail-dkim would; silent otherwise. Every
# message qmail-dkimd does not answer is signed by bin/qmail-dkim.
check_daemon() {
	front=$home/bin/qmail-dkimc
	sockfile=$ctl/dkimsocket
	dkimc=
	if [ -f "$front" ]; then
		if [ -f "$home/bin/qmail-remote" ] && cmp -s "$home/bin/qmail-remote" "$front"; then
			dkimc=$home/bin/qmail-remote
		elif found=$(rspawn_qmailremote) && [ -f "${found#* }" ] && cmp -s "${found#* }" "$front"; then
			dkimc="${found#* } (QMAILREMOTE of qmail-rspawn, pid ${found%% *})"
		fi
	fi
	if [ -z "$dkimc" ] && [ ! -e "$sockfile" ] && [ ! -L "$sockfile" ]; then
		return 0
	fi
	uid_user=$(id -u "$user" 2>/dev/null) || uid_user=
	# Can we try things as $user? As check_key_access does.
	as_user=
	if [ -n "$uid_user" ]; then
		if [ "$myuid" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
			as_user=1
		elif [ "$myuid" -eq "$uid_user" ]; then
			run_as() { "$@"; }
			as_user=1
		fi
	fi
	start="start qmail-dkimd as $user on it (see qmail-dkimd(8)), e.g. with the run script: exec setuidgid $user $home/bin/qmail-dkimd SOCKET"
	if [ -n "$dkimc" ]; then
		signer=$home/bin/qmail-dkim
		if [ ! -f "$signer" ] || [ ! -x "$signer" ]; then
			fail "daemon: $dkimc is qmail-dkimc, but $signer is missing or not executable: every message qmail-dkimd does not answer is deferred"
			fix "put qmail-dkim back with: qmail-dkim-install -c"
		elif cmp -s "$signer" "$front"; then
			fail "daemon: $signer is qmail-dkimc, not qmail-dkim: every message qmail-dkimd does not answer is deferred"
			fix "put qmail-dkim back with: qmail-dkim-install -c"
		elif [ -n "$as_user" ] && ! run_as test -x "$signer"; then
			fail "daemon: $user (gid $group, no other groups) cannot run $signer: every message qmail-dkimd does not answer is deferred"
			fix "chown 0:$group $signer; chmod 0711 $signer"
		else
			ok "daemon: $dkimc is qmail-dkimc; $signer signs what qmail-dkimd does not"
		fi
		if [ ! -e "$sockfile" ] && [ ! -L "$sockfile" ]; then
			warn "daemon: no $sockfile, so qmail-dkimc asks no qmail-dkimd: every message is signed by $signer, which is slower"
			fix "once qmail-dkimd runs (see qmail-dkimd(8)), write its socket's path there:" \
				"echo $home/dkimd/socket > $sockfile"
			return 0
		fi
	elif [ ! -f "$front" ] || [ -r "$home/bin/qmail-remote" ]; then
		# (qmail's binaries are mode 0711: only root can compare them)
		warn "daemon: $sockfile exists, but qmail-remote is not qmail-dkimc: nothing reads it"
		fix "install qmail-dkimc with: qmail-dkim-install -c (-n -c on notqmail), or remove $sockfile"
	fi
	# Its first line, without the blanks and CR qmail-dkimc drops.
	sock=
	if [ -f "$sockfile" ]; then
		IFS= read -r sock <"$sockfile" || :
	fi
	# shellcheck disable=SC2295 # $cr is part of the pattern
	sock=${sock#"${sock%%[! 	]*}"}
	# shellcheck disable=SC2295
	sock=${sock%"${sock##*[! 	$cr]}"}
	case $sock in
	/*) ;;
	*)
		warn "daemon: $sockfile does not hold an absolute path${sock:+ ($sock)}: qmail-dkimc ignores it and has qmail-dkim sign every message, which is slower"
		fix "write the absolute path of qmail-dkimd's socket in it, alone on the first line"
		return 0
		;;
	esac
	# qmail-dkimd makes it as $sock.new, which must fit in sun_path too
	if [ ${#sock} -ge 104 ]; then
		warn "daemon: $sock, named by $sockfile, is too long for qmail-dkimd's socket (103 bytes at most): qmail-dkimc has qmail-dkim sign every message, which is slower"
		fix "make qmail-dkimd's socket at a shorter path, and write it in $sockfile"
		return 0
	fi
	if [ ! -e "$sock" ] && [ ! -L "$sock" ]; then
		warn "daemon: nothing at $sock, named by $sockfile: qmail-dkimd does not run; messages are still signed, by qmail-dkim, only slower"
		fix "${start%SOCKET}$sock"
		return 0
	fi
	if [ ! -S "$sock" ]; then
		warn "daemon: $sock, named by $sockfile, is not a socket: qmail-dkimd does not run there; messages are still signed, by qmail-dkim, only slower"
		fix "${start%SOCKET}$sock (it replaces what is there)"
		return 0
	fi
	# shellcheck disable=SC2012,SC2046 # ls -l is the portable way to read the owner
	set -- $(ls -lnd "$sock")
	suid=$3
	if [ -n "$uid_user" ] && [ "$suid" != "$uid_user" ]; then
		warn "daemon: $sock belongs to uid $suid, not to $user (uid $uid_user): qmail-dkimd answers only its own user (and root), so qmail-dkimc, run as $user, gets no answer; messages are still signed, by qmail-dkim, only slower"
		fix "run qmail-dkimd as $user (see qmail-dkimd(8)): exec setuidgid $user $home/bin/qmail-dkimd $sock"
		return 0
	fi
	if [ -n "$nosig" ]; then
		ok "daemon: $sock is a socket of $user (-T: qmail-dkimc not tried)"
		return 0
	fi
	if [ -z "$uid_user" ]; then
		warn "daemon: $sock is a socket, but there is no user $user to try qmail-dkimc as"
		fix "name the user qmail-remote runs as with -u"
		return 0
	fi
	if [ -z "$as_user" ]; then
		warn "daemon: $sock is a socket of $user, but qmail-dkimc is not tried as $user: that needs root and setpriv (util-linux)"
		fix "run $prog as root"
		return 0
	fi
	client=
	for b in "$front" "${bin:+$(dirname "$bin")/qmail-dkimc}" "${PREFIX:-/usr/local}/bin/qmail-dkimc"; do
		if [ -n "$b" ] && [ -f "$b" ] && [ -x "$b" ]; then
			client=$b
			break
		fi
	done
	if [ -z "$client" ]; then
		warn "daemon: $sock is a socket of $user, but there is no qmail-dkimc binary to try it with"
		fix "install it with: qmail-dkim-install -c"
		return 0
	fi
	# qmail-dkimc in a scratch home whose qmail-dkim only says that it was
	# run: a signed message handed on, and no fall-back, is qmail-dkimd's.
	scratch_home "$work/dhome"
	cat >"$h/bin/qmail-dkim" <<EOF
#!/bin/sh
: >"$h/out/fell-back"
printf 'Zqmail-dkimc fell back to qmail-dkim\\n\\0'
EOF
	chmod 0755 "$h/bin/qmail-dkim"
	make_sample
	test_delivery "$client"
	if [ -f "$h/out/fell-back" ]; then
		if ! run_as test -r "$sockfile"; then
			warn "daemon: $user cannot read $sockfile, so qmail-dkimc asks no qmail-dkimd; messages are still signed, by qmail-dkim, only slower"
			fix "chmod 0644 $sockfile"
		elif ! run_as test -w "$sock"; then
			warn "daemon: $user (gid $group, no other groups) cannot reach $sock, so qmail-dkimd does not answer qmail-dkimc; messages are still signed, by qmail-dkim, only slower"
			fix "make the socket's directory $user's, mode 0700, and restart qmail-dkimd as $user (see qmail-dkimd(8))"
		else
			warn "daemon: nothing answers at $sock (a socket left by a qmail-dkimd that no longer runs?): messages are still signed, by qmail-dkim, only slower"
			fix "${start%SOCKET}$sock"
		fi
		return 0
	fi
	if [ "$rc" -ne 0 ]; then
		fail "daemon: $client exited $rc (qmail bounces mail on any status but 0 and 111); it said: $shown"
		return 0
	fi
	if ! reported_k; then
		case $report in
		Z* | D*) fail "daemon: qmail-dkimd answered, and qmail-dkimc refused the test message: ${shown#?}" ;;
		*) fail "daemon: qmail-dkimc's report is not qmail-remote's: $shown" ;;
		esac
		fix "see qmail-dkimd(8); the same happens to real mail"
		return 0
	fi
	if [ ! -f "$h/out/message" ]; then
		fail "daemon: qmail-dkimc did not pass the message to qmail-remote"
		return 0
	fi
	nsig=$(grep -c -i '^DKIM-Signature:' "$h/out/message" || :)
	if [ -z "$kdomain" ]; then
		ok "daemon: qmail-dkimd at $sock answers qmail-dkimc run as $user (no key for $domain, nothing to sign)"
		return 0
	fi
	if [ "$nsig" -eq 0 ]; then
		fail "daemon: qmail-dkimd at $sock answered, but the test message was passed on unsigned"
		fix "see qmail-dkimd(8)"
		return 0
	fi
	if ! have_dkimpy; then
		ok "daemon: qmail-dkimd at $sock answers qmail-dkimc run as $user, and signed the test message (not verified: no dkimpy)"
		return 0
	fi
	ok "daemon: qmail-dkimd at $sock answers qmail-dkimc run as $user"
	verify_kept daemon qmail-dkimd
}
