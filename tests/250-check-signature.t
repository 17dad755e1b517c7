#!/bin/sh
# 250-check-signature.t: qmail-dkim-check's test signature, with a stand-in
# for qmail-dkim written here (dkimpy signs), so that every outcome can be
# provoked: good, broken, misdirected, deferred, crashed, unsigned. Also
# that the stand-in is run as qmail-rspawn runs qmail-remote. The real
# qmail-dkim is tried in 260.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns "$PY"
"$PY" -c 'import dkim' 2>/dev/null || skip_all "no dkimpy for $PY (python3-dkim)"
plan 26

qmail_accounts
qmail_home
admin_keygen sig.test s1 || bail "qmail-dkim-keygen failed"
value=$(cat "$K/sig.test/s1.txt")
for d in nodns.test wrongdns.test; do
	cp -pR "$K/sig.test" "$K/$d"
done
# Many domains: who may sign as which (qmail-dkim-check FAILs without it).
printf '%s: *\n' "$(id -un)" >"$Q/control/dkimrights"
other=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null |
	openssl pkey -pubout -outform DER | openssl base64 -A)
{
	echo "local=/test/"
	echo "txt-record=s1._domainkey.sig.test,$value"
	echo "txt-record=sig.test,\"v=spf1 ip4:192.0.2.7 -all\""
	echo "txt-record=_dmarc.sig.test,\"v=DMARC1; p=reject\""
	echo "txt-record=s1._domainkey.wrongdns.test,\"v=DKIM1; k=rsa; p=$other\""
} >"$T/dns.conf"
start_dns 3571

# The stand-in: finds the key as qmail-dkim does, signs with dkimpy, and
# runs QMAILHOME/bin/qmail-remote.orig with the signed message on fd 0.
# What it was started with goes to $T/seen/MODE. Its mode is in a file
# beside it: qmail-dkim-check gives it no environment to pass one in.
mkdir "$T/seen"
chmod 0777 "$T/seen"
cat >"$T/stand-in" <<EOF
#!/usr/bin/python3
import os, stat, sys, types
stub = types.ModuleType('dkim.dnsplug')  # skip dnspython: slow to start
stub.get_txt = lambda name, timeout=5: None
sys.modules['dkim.dnsplug'] = stub
import dkim
mode = open(sys.argv[0] + '.mode').read().strip()
home = os.environ.get('QMAILDKIM_HOME', '/var/qmail')
# python adds LC_CTYPE to its own environment: read the one it was given.
try:
    env = [v.split(b'=', 1)[0].decode() for v in open('/proc/self/environ', 'rb').read().split(b'\\0') if v]
except OSError:
    env = list(os.environ)
with open('$T/seen/' + os.path.basename(os.path.dirname(sys.argv[0])), 'w') as f:
    print('uid', os.getuid(), file=f)
    print('gid', os.getgid(), file=f)
    print('groups', ' '.join(str(g) for g in sorted(os.getgroups())), file=f)
    m = os.umask(0); os.umask(m)
    print('umask', '%04o' % m, file=f)
    print('env', ' '.join(sorted(env)), file=f)
    print('args', ' '.join(sys.argv[1:]), file=f)
    print('stdin', 'file' if stat.S_ISREG(os.fstat(0).st_mode) else 'other', file=f)
msg = sys.stdin.buffer.read()
if mode == 'defer':
    sys.stdout.write('Zno key here. (#4.3.0)\n\0')
    sys.exit(0)
if mode == 'crash':
    sys.stderr.write('oops\n')
    sys.exit(1)
out = msg
if mode != 'unsigned':
    head = msg.split(b'\n\n', 1)[0]
    frm = [l for l in head.split(b'\n') if l.lower().startswith(b'from:')][0]
    dom = frm.rsplit(b'@', 1)[1].strip(b'> \t').decode().lower()
    while True:
        d = os.path.join(home, 'control', 'domainkeys', dom)
        sel = 'default'
        if os.path.exists(d + '/selector'):
            sel = open(d + '/selector').readline().strip()
        if os.path.exists(os.path.join(d, sel)):
            break
        dom = dom.split('.', 1)[1]
    key = open(os.path.join(d, sel), 'rb').read()
    sig = dkim.sign(msg.replace(b'\n', b'\r\n'), sel.encode(),
                    (b'wrong.test' if mode == 'wrongd' else dom.encode()), key,
                    canonicalize=(b'relaxed', b'relaxed'),
                    include_headers=[b'From', b'To', b'Subject', b'Date'])
    out = sig.replace(b'\r\n', b'\n') + msg
    if mode == 'tamper':
        out += b'tampered\n'
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    os.write(w, out)
    os._exit(0)
os.close(w)
os.dup2(r, 0)
os.execv(os.path.join(home, 'bin', 'qmail-remote.orig'), ['qmail-remote'] + sys.argv[1:])
EOF
for m in sign tamper wrongd defer crash unsigned nodns wrongdns default; do
	mkdir "$T/$m"
	cp "$T/stand-in" "$T/$m/qmail-dkim"
	chmod 0755 "$T/$m" "$T/$m/qmail-dkim"
	case $m in
	nodns | wrongdns | default) echo sign >"$T/$m/qmail-dkim.mode" ;;
	*) echo "$m" >"$T/$m/qmail-dkim.mode" ;;
	esac
done
echo default >"$T/default/qmail-dkim.mode"
cp "$T/default/qmail-dkim" "$T/default/qmail-dkim.mode" "$Q/bin/"

# All checks at once (chk NAME DOMAIN [ARG...]), then each in turn (see NAME).
chk() {
	name=$1 dom=$2
	shift 2
	spawn "$name" "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -i 192.0.2.7 "$@" "$dom"
}
for m in sign tamper wrongd defer crash unsigned; do
	chk "$m" sig.test -b "$T/$m/qmail-dkim"
done
chk nodns nodns.test -b "$T/nodns/qmail-dkim"
chk wrongdns wrongdns.test -b "$T/wrongdns/qmail-dkim"
chk none sig.test -b "$T/no-such-binary"
chk default sig.test
chk skipped sig.test -T -b "$T/crash/qmail-dkim"
wait

# --- a good signature -------------------------------------------------------------
see sign
is "$rc" 0 "a good setup: exit 0"
has "$T/out" "^OK    signature: qmail-dkim's test signature verifies with the DNS record \(d=sig\.test s=s1 a=rsa-sha256 c=relaxed/relaxed\)$" "the test signature verifies with the DNS record"
has "$T/out" "^qmail-dkim-check: [0-9]+ OK, 0 WARN, 0 FAIL$" "and nothing else is wrong"
seen=$T/seen/sign
if [ -n "$root" ]; then
	is "$(sed -n 's/^uid //p' "$seen")" "$(id -u qmailr)" "qmail-dkim ran as qmailr"
	is "$(sed -n 's/^gid //p' "$seen")" "$(getent group qmail | cut -d: -f3)" "with gid qmail"
	is "$(sed -n 's/^groups //p' "$seen")" "" "and no supplementary groups"
else
	skip 3 "not root: ran as ourselves"
fi
is "$(sed -n 's/^umask //p' "$seen")" 0077 "with umask 077"
is "$(sed -n 's/^env //p' "$seen")" "PATH QMAILDKIM_HOME" "with only PATH and QMAILDKIM_HOME in its environment"
is "$(sed -n 's/^args //p' "$seen")" "example.net postmaster@sig.test check@example.net" "with qmail-remote's arguments"
is "$(sed -n 's/^stdin //p' "$seen")" file "with the message in a file on fd 0"

# --- what goes wrong ----------------------------------------------------------------
see tamper
is "$rc" 1 "a signature that does not verify: exit 1"
has "$T/out" "^FAIL  signature: qmail-dkim's test signature does not verify with the DNS record: body hash mismatch" "a changed body FAILs, with dkimpy's reason"
has "$T/out" "^      fix: the signature itself is wrong" "and blames the signature, since the record matched the key"
see wrongd
has "$T/out" "^FAIL  signature: qmail-dkim signed with d=wrong\.test s=s1, but the key found above is d=sig\.test s=s1" "a signature for another domain FAILs"
see defer
has "$T/out" "^FAIL  signature: qmail-dkim refused the test message: no key here\. \(#4\.3\.0\)$" "a deferral FAILs, with its text"
see crash
has "$T/out" "^FAIL  signature: .*/crash/qmail-dkim exited 1 \(qmail bounces mail on any status but 0 and 111\); it said: oops$" "an exit status of 1 FAILs, with what it said"
see unsigned
has "$T/out" "^FAIL  signature: qmail-dkim passed the message on unsigned" "an unsigned message FAILs"

# --- DNS not ready -----------------------------------------------------------------------
see nodns
has "$T/out" "^WARN  signature: qmail-dkim's test signature verifies with the local public key \(nothing in DNS yet\)" "no record: verified with the local key, a WARN"
has "$T/out" "^FAIL  dns: no TXT record at s1\._domainkey\.nodns\.test" "and the missing record FAILs"
see wrongdns
has "$T/out" "^FAIL  signature: qmail-dkim's test signature does not verify with the DNS record" "a record for another key: the signature FAILs"
has "$T/out" "^      fix: publish the record qmail-dkim-keygen -p wrongdns\.test s1 prints" "and the fix is the record"

# --- which binary ------------------------------------------------------------------------
see none
has "$T/out" "^WARN  signature: no qmail-dkim binary at .*/no-such-binary, so no test signature" "no binary: a WARN"
see default
has "$T/out" "^OK    signature: qmail-dkim's test signature verifies" "QMAILHOME/bin/qmail-dkim is the default binary"
if [ -f "$T/seen/bin" ]; then pass "and it was the one run"; else fail "and it was the one run"; fi
see skipped
is "$rc" 0 "-T: no test signature, exit 0"
if grep -q "signature:" "$T/out"; then
	fail "-T makes no test signature"
else
	pass "-T makes no test signature"
fi

