#!/bin/sh
# The scripts under each shell a host may have as /bin/sh: dash (Debian),
# busybox ash (a bare account), bash as sh (RHEL and CentOS, whose /bin/sh
# is bash).  Each shell gets the scripts with their #! line pointing at
# it, so the scripts they run (qmail-dkim-spf from qmail-dkim-check) run
# under it too.  As an unprivileged user: keygen makes an RSA and an
# Ed25519 key and prints the record, starts signing with both once a
# local DNS server has them, check finds the keys, the records, SPF,
# DMARC and a test signature of qmail-dkim-queue that verifies, the same
# lines under every shell; as root, qmail-dkim-install swaps a qmail-dkim
# in and out.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to become an unprivileged uid (setpriv)"
need setpriv
need_dns "$PY"
"$PY" -c 'import dkim' 2>/dev/null || skip_all "no dkimpy for $PY (python3-dkim)"
QDKIMQ=${QDKIMQ:-$TOP/qmail-dkim/qmail-dkim-queue}
[ -x "$QDKIMQ" ] || skip_all "qmail-dkim-queue is not built"

# NAME=INTERPRETER: the shells found here
shells=
[ -x /bin/dash ] && shells="$shells dash=/bin/dash"
/bin/busybox sh -c : 2>/dev/null && shells="$shells ash=/bin/busybox"
[ -x /bin/bash ] && shells="$shells bash=/bin/bash"
# shellcheck disable=SC2086 # one word each
set -- $shells
[ $# -gt 0 ] || skip_all "no shell to try"
plan $(($# * 8))

U=65534
chmod 0711 "$T"
# the scripts for each shell, in $T/NAME/bin, with check/ beside them
for s in $shells; do
	n=${s%%=*} i=${s#*=}
	b=$T/$n/bin
	mkdir -p "$b/check"
	case $n in
	ash) line="#!$i sh" ;;
	bash)
		# invoked as sh, bash is in POSIX mode, as CentOS's /bin/sh
		ln -s "$i" "$T/$n/sh"
		line="#!$T/$n/sh"
		;;
	*) line="#!$i" ;;
	esac
	for f in "$S"/qmail-dkim-*; do
		{ echo "$line" && sed 1d "$f"; } >"$b/${f##*/}"
		chmod 0755 "$b/${f##*/}"
	done
	cp "$S"/check/*.sh "$b/check/"
	mkdir -m 0700 "$T/$n/home"
	chown "$U:$U" "$T/$n/home"
done
chmod -R go-w "$T"

# as_user NAME CMD...: CMD as uid 65534, in NAME's home, with a bare
# environment; run's $T/out, $T/err and $rc.
as_user() {
	_h=$T/$1/home
	shift
	# shellcheck disable=SC2016 # expanded by the user's shell
	run setpriv --reuid="$U" --regid="$U" --clear-groups -- \
		env -i PATH=/usr/bin:/bin HOME="$_h" /bin/sh -c 'cd "$HOME" && exec "$@"' sh "$@"
}

# --- keys, before the DNS has them -----------------------------------------------
for s in $shells; do
	n=${s%%=*}
	b=$T/$n/bin
	as_user "$n" "$b/qmail-dkim-keygen" "$n.test" s1 &&
		as_user "$n" "$b/qmail-dkim-keygen" -t ed25519 "$n.test" e1
	is "$rc" 0 "$n: keygen makes an RSA and an Ed25519 key"
	[ "$rc" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
	as_user "$n" "$b/qmail-dkim-keygen" -p "$n.test" e1
	has "$T/out" "^  value: v=DKIM1; k=ed25519; p=" "$n: keygen -p prints the record"
	cp "$T/out" "$T/$n/print"
done
{
	for s in $shells; do
		n=${s%%=*}
		kd=$T/$n/home/.qmail-dkim/$n.test
		echo "local=/$n.test/"
		echo "txt-record=s1._domainkey.$n.test,$(cat "$kd/s1.txt")"
		echo "txt-record=e1._domainkey.$n.test,$(cat "$kd/e1.txt")"
		echo "txt-record=$n.test,\"v=spf1 ip4:192.0.2.7 -all\""
		echo "txt-record=_dmarc.$n.test,\"v=DMARC1; p=reject\""
	done
} >"$T/dns.conf"
start_dns 7251

# --- start signing, check -------------------------------------------------------------
# same: check's lines with the shell's name made one
same() { sed "s/$1/SHELL/g; s/[0-9][0-9]* ms/N ms/g" "$T/out"; }
first=
for s in $shells; do
	n=${s%%=*}
	b=$T/$n/bin
	as_user "$n" "$b/qmail-dkim-keygen" -s "127.0.0.1:$port" -A s1 "$n.test" &&
		as_user "$n" "$b/qmail-dkim-keygen" -s "127.0.0.1:$port" -A e1 "$n.test"
	is "$rc" 0 "$n: keygen -A signs with both once the DNS serves them"
	[ "$rc" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
	as_user "$n" "$b/qmail-dkim-check" -s "127.0.0.1:$port" -b "$QDKIMQ" -i 192.0.2.7 "$n.test"
	is "$rc" 0 "$n: check exits 0"
	[ "$rc" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
	has "$T/out" "^OK    signature: qmail-dkim-queue's test signature verifies with the DNS record \\(d=$n\\.test s=s1 " \
		"$n: check: the test signature verifies"
	lacks "$T/out" "^WARN|^FAIL" "$n: check: nothing to warn of"
	same "$n" >"$T/$n/check"
	if [ -z "$first" ]; then
		first=$n
		pass "$n: check's lines (the others are compared with these)"
	else
		ok "$n: check's lines are $first's" cmp -s "$T/$first/check" "$T/$n/check"
		cmp -s "$T/$first/check" "$T/$n/check" ||
			diag "$(diff "$T/$first/check" "$T/$n/check")"
	fi
done

# --- qmail-dkim-install, as root ------------------------------------------------------
qmail_home
real_remote 'echo real'
printf '#!/bin/sh\necho dkim\n' >"$T/qmail-dkim"
chmod 0755 "$T/qmail-dkim"
before=$(cd "$Q/bin" && ls -l && cksum ./*)
for s in $shells; do
	n=${s%%=*}
	b=$T/$n/bin
	run "$b/qmail-dkim-install" -d "$Q" -b "$T/qmail-dkim" &&
		cmp -s "$Q/bin/qmail-remote" "$T/qmail-dkim" &&
		run "$b/qmail-dkim-install" -d "$Q" -u
	is "$rc $(cd "$Q/bin" && ls -l && cksum ./*)" "0 $before" \
		"$n: qmail-dkim-install swaps qmail-dkim in, -u puts everything back"
done
