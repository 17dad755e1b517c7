# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: whether this host's own users can relay through
# its SMTP service on 127.0.0.1, and whether that mail names who sent it.

# ---- the loopback relay ------------------------------------------------------
# With control/dkimrights, mail that qmail-smtpd received from a loopback
# address is signed only for the local user its Received line names:
# "(alice@127.0.0.1)", the ident answer tcpserver got (TCPREMOTEINFO;
# notqmail received.c), or an SMTP AUTH patch's login. A relay that any
# local user may use (RELAYCLIENT for 127. in the tcprules cdb) without
# either lets every user send as any envelope sender, and such mail goes
# out unsigned; with an older qmail-dkim, signed as that sender.

# The probe, in perl (IO::Socket::INET is in every perl 5): SMTP to
# 127.0.0.1 PORT up to RCPT, never DATA; while that connection is open, an
# RFC 1413 query to 127.0.0.1 port 113 for it ("LOCALPORT, PORT"). It
# prints "connect ERROR" and stops when nothing answers on PORT, then one
# "smtp STEP CODE TEXT" line for each of greeting, helo, mail and rcpt,
# and "ident ANSWER" (the RFC 1413 reply line) or "ident none ERROR".
# shellcheck disable=SC2016 # perl's own variables
relay_probe='
use strict;
use IO::Socket::INET;
my ($port, $rcpt) = @ARGV;
$SIG{ALRM} = sub { print "timeout\n"; exit 0 };
alarm 60;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
	Proto => "tcp", Timeout => 10);
if (!$s) { print "connect $!\n"; exit 0 }
$s->autoflush(1);
sub reply {
	my $text = "";
	while (defined(my $l = <$s>)) {
		$l =~ s/\r?\n\z//;
		$text .= ($text eq "" ? "" : " ") . $l;
		return $text if $l !~ /^\d\d\d-/;
	}
	return $text eq "" ? "000 connection closed" : $text;
}
sub step {
	my ($name, $cmd) = @_;
	print $s "$cmd\r\n" if defined $cmd;
	my $r = reply();
	print "smtp $name $r\n";
	return $r =~ /^2/;
}
step("greeting") && step("helo", "HELO localhost") &&
	step("mail", "MAIL FROM:<>") && step("rcpt", "RCPT TO:<$rcpt>");
my $lport = $s->sockport;
my $id = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => 113,
	Proto => "tcp", Timeout => 10);
if ($id) {
	print $id "$lport, $port\r\n";
	my $a = <$id>;
	if (defined $a) { $a =~ s/\r?\n\z//; print "ident $a\n" }
	else { print "ident none no answer\n" }
	close $id;
} else {
	print "ident none $!\n";
}
print $s "QUIT\r\n";
reply();
close $s;
'

# tcpserver_for PORT: the tcpserver that serves PORT (or, for 25, smtp) on
# 127.0.0.1 (or on every address) in this network namespace, read from /proc/PID/cmdline: its pid in
# $tcps_pid, its command line in $tcps_cmd, "1" in $tcps_noident when it
# runs with -R (no ident lookups; -r, the default, asks), its tcprules cdb
# (-x) in $tcps_rules. 1 when none is found.
tcpserver_for() {
	tcps_pid='' tcps_cmd='' tcps_noident='' tcps_rules='' tcps_port=$1
	[ -d /proc/self ] || return 1
	mynet=$(readlink /proc/self/ns/net 2>/dev/null) || mynet=
	# shellcheck disable=SC2013 # /proc paths, no blanks
	for f in $(grep -l tcpserver /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		# another network namespace's port 25 is not ours (a process
		# of another user's, not root's to see, is taken as ours)
		pnet=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || pnet=
		if [ -n "$mynet" ] && [ -n "$pnet" ] && [ "$pnet" != "$mynet" ]; then
			continue
		fi
		tr '\0' '\n' <"$f" >"$work/cmdline" 2>/dev/null || continue
		# ucspi-tcp's getopt string, and ucspi-tcp6's -I: options with
		# an argument are c x t u g l b B I; then HOST PORT PROGRAM.
		# shellcheck disable=SC2046 # two words
		set -- $(awk -v want="$tcps_port" '
			NR == 1 { n = split($0, p, "/"); if (p[n] != "tcpserver") exit; next }
			state == 0 && $0 == "--" { state = 1; next }
			state == 0 && /^-./ {
				for (i = 2; i <= length($0); i++) {
					c = substr($0, i, 1)
					if (c == "R") noident = 1
					else if (c == "r") noident = 0
					else if (index("cxtuglbBI", c)) {
						v = substr($0, i + 1)
						if (v == "") { getline v }
						if (c == "x") rules = v
						break
					}
				}
				next
			}
			state <= 1 { state = 2; host = $0; next }
			state == 2 {
				# the server the probe reached: on 127.0.0.1 or on all addresses
				if (host != "0" && host != "0.0.0.0" && host != "::" && host !~ /^127\./ && host != "localhost") exit
				if ($0 == want || (want == 25 && $0 == "smtp")) print (noident ? 1 : 0), (rules == "" ? "-" : rules)
				exit
			}' "$work/cmdline")
		[ $# -eq 2 ] || continue
		tcps_pid=$pid
		tcps_noident=$1
		[ "$2" = - ] || tcps_rules=$2
		[ "$tcps_noident" = 1 ] || tcps_noident=''
		tcps_cmd=$(tr '\n' ' ' <"$work/cmdline")
		tcps_cmd=${tcps_cmd% }
		return 0
	done
	return 1
}

# relay_fix: the two ways to let loopback mail name its sender.
relay_fix() {
	fix "let tcpserver ask who connects, and have an identd answer: tcpserver without -R (its default -r asks the client's identd), and an identd on 127.0.0.1 port 113 whose users cannot make it answer another user's name, such as Debian's oidentd (its /etc/oidentd.conf denies spoof by default); INSTALL step 15 has a run file" \
		"or take RELAYCLIENT away from 127. in the tcprules file${tcps_rules:+ (compiled into $tcps_rules)}, and let local users relay only with SMTP AUTH, through a patch that writes the login into qmail-smtpd's Received line or refuses a MAIL FROM the login does not own"
}

# check_relay: on a host with control/dkimrights, probe whether 127.0.0.1
# can relay through port $smtp_port; when it can, whether its mail can be
# attributed to a local user.
check_relay() {
	[ -f "$ctl/dkimrights" ] || return 0
	[ "$smtp_port" != 0 ] || return 0
	where="127.0.0.1 port $smtp_port"
	if ! command -v perl >/dev/null 2>&1; then
		warn "relay: no perl, so $where is not probed: whether local users can relay through it, unattributed, is not checked"
		fix "install perl, or try by hand: telnet 127.0.0.1 $smtp_port; HELO x; MAIL FROM:<>; RCPT TO:<postmaster@example.net>; QUIT (250 to RCPT: loopback can relay)"
		return 0
	fi
	perl -e "$relay_probe" "$smtp_port" postmaster@example.net >"$work/relay" 2>&1 || :
	line=$(sed -n 1p "$work/relay")
	case $line in
	connect*)
		ok "relay: nothing listens on $where (${line#connect }): nothing to probe"
		return 0
		;;
	timeout*)
		warn "relay: $where did not answer within 60 seconds: whether local users can relay through it is not known"
		return 0
		;;
	esac
	rcpt=$(sed -n 's/^smtp rcpt //p' "$work/relay")
	if [ -z "$rcpt" ]; then
		last=$(sed -n 's/^smtp [a-z]* //p' "$work/relay" | tail -n 1)
		warn "relay: $where refused the probe before RCPT (${last:-no answer}): whether local users can relay through it is not known"
		return 0
	fi
	case $rcpt in
	2*) ;;
	*)
		ok "relay: 127.0.0.1 cannot relay through port $smtp_port (RCPT TO:<postmaster@example.net>: $rcpt)"
		return 0
		;;
	esac
	relay="127.0.0.1 can relay through port $smtp_port (RCPT TO:<postmaster@example.net> from 127.0.0.1: $rcpt)"
	tcpserver_for "$smtp_port" || :
	served=${tcps_pid:+, served by tcpserver pid $tcps_pid: $tcps_cmd}
	# RFC 1413 6: "PORT , PORT : USERID : OPSYS : NAME"
	me=$(id -un)
	answer=$(sed -n 's/^ident //p' "$work/relay")
	idname=$(printf '%s\n' "$answer" | awk -F: '{ gsub(/[ \t]/, "", $2) }
		NF >= 4 && $2 == "USERID" { v = $4; for (i = 5; i <= NF; i++) v = v ":" $i
			sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v }')
	if [ "$idname" != "$me" ]; then
		case $answer in
		'none '*) why="no identd answers on 127.0.0.1 port 113 (${answer#none })" ;;
		*) why="the identd on 127.0.0.1 port 113 answered '$answer' for this check's own connection, not $me" ;;
		esac
		fail "relay: $relay$served, and its mail cannot be attributed to a local user: $why. Any local user can relay through it with any envelope sender, and with control/dkimrights that mail goes out unsigned"
		relay_fix
		return 0
	fi
	if [ -z "$tcps_pid" ]; then
		warn "relay: $relay; the identd on 127.0.0.1 port 113 names $me, but no tcpserver for port $smtp_port was found in /proc, so whether the SMTP service asks it is not known"
		fix "run qmail-smtpd under tcpserver without -R, as INSTALL step 15 shows; with another server, make it pass the ident answer to qmail-smtpd as TCPREMOTEINFO"
		return 0
	fi
	if [ -n "$tcps_noident" ]; then
		fail "relay: $relay$served, and its mail cannot be attributed to a local user: tcpserver runs with -R, so it does not ask the identd. Any local user can relay through it with any envelope sender, and with control/dkimrights that mail goes out unsigned"
		relay_fix
		return 0
	fi
	ok "relay: $relay, and its mail names the local user: tcpserver pid $tcps_pid asks the identd on 127.0.0.1 port 113, which named $me for this check"
	oconf=/etc/oidentd.conf
	if [ -f "$oconf" ] && sed 's/#.*//' "$oconf" | grep -Eq 'allow[[:space:]]+spoof'; then
		fail "relay: $oconf allows spoof: a user it lets can make oidentd answer another user's name, and be signed as that user's domains"
		fix "write deny spoof, deny spoof_all and deny spoof_privport in $oconf, as Debian ships it"
	fi
}
