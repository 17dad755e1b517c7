# shellcheck shell=sh
# Sourced after lib.sh and faults.sh by the qmail-dkimd tests (tests/18N-*.t):
# deliveries through qmail-dkimc, and telling whether qmail-dkimd or the
# fallback, bin/qmail-dkim, signed them.

[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
# shellcheck disable=SC2153 # set by lib.sh
if [ ! -x "$QDKIMC" ] || [ ! -x "$QDKIMD" ]; then
	skip_all "qmail-dkimc and qmail-dkimd are not built"
fi
command -v pgrep >/dev/null || skip_all "no pgrep (procps)"

M=$TOP/tests/msg/simple.eml
# shellcheck disable=SC2034 # for the tests
K=control/domainkeys/example.com

# set_fallback [DIR]: bin/qmail-dkim notes its argv in DIR/fellback
# (default $T/out, made anew by each delivery), then execs the real
# qmail-dkim.  Perl, not sh: dash would clear the signal mask.  A note it
# cannot write is a Z record, so that it cannot pass for "not run".
# shellcheck disable=SC2120 # DIR is for the tests that need it
set_fallback() {
	{
		echo '#!/usr/bin/perl'
		echo "my (\$mark, \$real) = ('${1:-$T/out}/fellback', '$QDKIM');"
		cat <<-'EOF'
			if (open(my $f, '>>', $mark)) { print $f "@ARGV\n"; close $f }
			else { syswrite STDOUT, "Zcannot write $mark: $!\n\0"; exit 0 }
			exec { $real } $0, @ARGV or exit 111;
		EOF
	} >"$T/qmail/bin/qmail-dkim"
	chmod 755 "$T/qmail/bin/qmail-dkim"
}

# home [FLAVOUR]: a fresh qmail home with a key for example.com and the
# noting bin/qmail-dkim; no control/dkimsocket.
home() {
	setup_home "${1:-netqmail}"
	make_key example.com
	set_fallback
}

# cdeliver [RSPAWN-OPTION...] MSGFILE [HOST SENDER RECIP...]: fdeliver
# through qmail-dkimc.
cdeliver() {
	_q=$QDKIM
	QDKIM=$QDKIMC
	fdeliver "$@"
	QDKIM=$_q
}

# by_daemon DESC MSGFILE EXPECTED: outcome, and bin/qmail-dkim did not run.
by_daemon() {
	outcome "$1" "$2" "$3"
	if [ -e "$T/out/fellback" ]; then
		fail "$1: qmail-dkimd answered, bin/qmail-dkim did not run"
		diag "bin/qmail-dkim ran: $(cat "$T/out/fellback")"
	else pass "$1: qmail-dkimd answered, bin/qmail-dkim did not run"; fi
}
# by_fallback DESC MSGFILE [EXPECTED]: outcome (default signed), and
# bin/qmail-dkim ran once.
by_fallback() {
	outcome "$1" "$2" "${3:-signed}"
	is "$(grep -c '' "$T/out/fellback" 2>/dev/null || echo 0)" 1 "$1: bin/qmail-dkim ran, once"
}

# msg N: a message of its own, $T/m/N.eml, so that a signature given to
# the wrong message fails.
msg() {
	mkdir -p "$T/m"
	sed -e "s/^Subject: .*/Subject: message $1/" -e "s/^this is a plain/this is message $1, a plain/" \
		"$M" >"$T/m/$1.eml"
	echo "$T/m/$1.eml"
}

# fake MODE: a fake qmail-dkimd (tests/fake-dkimd.py) on $T/run/fake.sock,
# which control/dkimsocket names; its pid in _fake.
fake() {
	mkdir -p "$T/run"
	rm -f "$T/fake.log"
	"$PY" "$TOP/tests/fake-dkimd.py" "$1" "$T/run/fake.sock" "$T/fake.log" \
		</dev/null >/dev/null 2>"$T/fake.err" &
	_fake=$!
	kill_at_exit "$_fake"
	echo "$T/run/fake.sock" >"$T/qmail/control/dkimsocket"
	_i=0
	while ! grep -q ready "$T/fake.log" 2>/dev/null && [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
