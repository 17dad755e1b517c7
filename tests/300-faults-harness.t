#!/bin/sh
# The fault tests' judge (tests/faults.sh) and rspawn.py's fault options:
# each verdict is tried on a stand-in signer that breaks exactly one rule,
# so a passing fault test means something.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
plan 27

M=$TOP/tests/msg/simple.eml
setup_home netqmail
make_key example.com

# signer NAME PERL: a stand-in qmail-dkim, in perl (sh would clear the
# signal mask), that runs PERL and then execs the real one.
signer() {
	cat >"$T/$1" <<-EOF
		#!/usr/bin/perl
		$2
		exec "\$ENV{QMAILDKIM_HOME}/bin/qmail-remote.orig", @ARGV or exit 111;
	EOF
	chmod 755 "$T/$1"
}
# verdict: the judge's TAP line on the last delivery, not counted here.
verdict() { (outcome "judged" "${1:-$M}" 2>/dev/null) | sed 's/^\(ok\|not ok\) [0-9]* - /\1 /'; }

signer pass ''
QDKIM=$T/pass fdeliver "$M"
is "$(verdict)" "ok judged (unsigned)" "a signer that changes nothing: unsigned"
is "$(cat "$T/out/leftover")" "" "  and leftover is empty"

signer stderr 'print STDERR "oops\n";'
QDKIM=$T/stderr fdeliver "$M"
is "$(verdict)" "not ok judged" "a byte on stderr before the real report fails"

signer straggler 'if (!fork) { close STDOUT; close STDERR; sleep 30; exit 0 }'
QDKIM=$T/straggler fdeliver "$M"
is "$(verdict)" "not ok judged" "a process left running fails"
ok "  leftover names it" grep -q '^left running: pid [0-9]* state .*perl' "$T/out/leftover"
ok "  and it was killed" sh -c "! pgrep -f '$T/[s]traggler' >/dev/null"

# shellcheck disable=SC2016 # perl code, for perl to expand
signer tmpfile 'open my $f, ">", "$ENV{TMPDIR}/qmail-dkim.left" or die;'
QDKIM=$T/tmpfile fdeliver "$M"
is "$(verdict)" "not ok judged" "a file left in TMPDIR fails"
is "$(cat "$T/out/leftover")" "left in TMPDIR: qmail-dkim.left" "  leftover names it"

# A signer that hands on other bytes: a temporary copy with one more line.
cat >"$T/change" <<'EOF'
#!/usr/bin/perl
open my $t, "+>", undef or exit 111;
print $t "X-Added: 1\n", <STDIN>;
seek $t, 0, 0;
open STDIN, "<&", $t or exit 111;
exec "$ENV{QMAILDKIM_HOME}/bin/qmail-remote.orig", @ARGV or exit 111;
EOF
QDKIM=$T/change fdeliver "$M"
is "$(verdict)" "not ok judged" "an unsigned message handed on changed fails"

# A signed message: dkimpy as the signer.  Good, then with the body
# changed after signing, then with the message changed before signing.
cat >"$T/dkimpy-signer" <<EOF
#!/usr/bin/perl
open my \$t, "+>", undef or exit 111;
open my \$s, "-|", "$PY", "$TOP/tests/sign-dkimpy.py", "\$ENV{QMAILDKIM_HOME}/control/domainkeys/example.com/default", "example.com", "default" or exit 111;
print \$t grep { s/\\r\\n\\z/\\n/; 1 } <\$s>;
close \$s or exit 111;
\$ENV{BREAK} eq "body" and print \$t "one more line\\n";
seek \$t, 0, 0;
open STDIN, "<&", \$t or exit 111;
exec "\$ENV{QMAILDKIM_HOME}/bin/qmail-remote.orig", @ARGV or exit 111;
EOF
chmod 755 "$T/dkimpy-signer"
perl -pe 's/\n/\r\n/' "$M" >"$T/crlf.eml"
QDKIM=$T/dkimpy-signer fdeliver "$T/crlf.eml"
is "$(verdict "$T/crlf.eml")" "ok judged (signed)" "a good signature: signed"
QDKIM=$T/dkimpy-signer fdeliver --env=BREAK=body "$T/crlf.eml"
is "$(verdict "$T/crlf.eml")" "not ok judged" "a signature over other bytes fails"
is "$(verdict "$TOP/tests/msg/fold.eml")" "not ok judged" "a signed message that is not the queue file fails"

# Deferrals.
zsigner() {
	printf '#!/bin/sh\nprintf %s\nexit %s\n' "'$2'" "$3" >"$T/$1"
	chmod 755 "$T/$1"
}
zsigner z 'Zno key. (#4.3.0)\n\0' 0
QDKIM=$T/z fdeliver "$M"
is "$(verdict)" "ok judged (deferred)" "one Z record and exit 0: deferred"
zsigner z111 'Zno key. (#4.3.0)\n\0' 111
QDKIM=$T/z111 fdeliver "$M"
is "$(verdict)" "not ok judged" "exit 111 fails"
zsigner zz 'Za\n\0Zb\n\0' 0
QDKIM=$T/zz fdeliver "$M"
is "$(verdict)" "not ok judged" "two Z records fail"
zsigner d 'Dno.\n\0' 0
QDKIM=$T/d fdeliver "$M"
is "$(verdict)" "not ok judged" "a D record fails"

# outcome with an expectation, and todo.
QDKIM=$T/z fdeliver "$M"
is "$( (outcome "x" "$M" signed unsigned 2>/dev/null) | cut -c1-6)" "not ok" "an outcome other than the expected ones fails"
is "$( (todo "bug: x"; fail "y") | sed 's/^not ok [0-9]* //')" "- y # TODO bug: x" "todo marks the next test"
is "$( (todo "bug: x"; fail "y"; echo "$_failed") | tail -n 1)" "$_failed" "  and does not count its failure"

# --- rspawn.py's fault options ------------------------------------------------

spawn() {
	"$PY" "$TOP/tests/rspawn.py" --report "$T/rep" --status "$T/st" \
		--env="QMAILDKIM_HOME=$T/qmail" "$@"
}
spawn --stdin-closed "$M" /bin/sh -c 'ls /proc/$$/fd'
is "$(tr '\n' ' ' <"$T/rep")" "1 2 " "--stdin-closed: fd 0 closed"
spawn --stdin-wronly "$M" /bin/sh -c 'cat; echo $?'
is "$(tail -n 1 "$T/rep")" 1 "--stdin-wronly: fd 0 cannot be read"
spawn --stdin-pipe --stdin-cut=10 "$M" /bin/sh -c 'wc -c'
is "$(cat "$T/rep")" 10 "--stdin-cut: the pipe ends after so many bytes"
spawn --rlimit=NOFILE=17 "$M" /bin/sh -c 'ulimit -n'
is "$(cat "$T/rep")" 17 "--rlimit sets a limit"
spawn --kill-after=0.2:TERM "$M" /bin/sleep 10
is "$(cat "$T/st")" "signal 15" "--kill-after signals the child"
spawn --sigchld-ignore "$M" /bin/grep '^SigIgn' /proc/self/status
is "$(($(sed 's/^SigIgn:[[:space:]]*/0x/' "$T/rep") >> 16 & 1))" 1 "--sigchld-ignore: SIGCHLD ignored"
if can_setuid; then
	chmod 711 "$T"
	spawn --user=nobody "$M" /usr/bin/id -u
	is "$(cat "$T/rep")" "$(id -u nobody)" "--user runs the child as that user"
else
	skip 1 "not root"
fi
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$T/small"
	spawn --tmpfs="$T/small:8k" "$M" /bin/sh -c "head -c 100000 /dev/zero >$T/small/f; wc -c <$T/small/f"
	is "$(tail -n 1 "$T/rep")" 8192 "--tmpfs mounts a small file system"
else
	skip 1 "not root"
fi
