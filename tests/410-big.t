#!/bin/sh
# Hostile sizes, made at test time: a 100 KiB header field (one line and
# folded), 10,000 fields, lines far over 1000 bytes, the header block at
# exactly its 1 MB limit and one byte over, and, with BIG_GB=N (off by
# default: about 15 s a GB), a sparse message of N GB read, signed and
# handed on whole, checked by its body hash and its bytes.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 12

setup_home netqmail
make_key example.com
mkdir "$T/wires"
HDR=$(sed '/^$/q' "$TOP/tests/msg/simple.eml")

# big CASE EXPECTED: deliver $T/CASE.eml; its verdict waits for verify_many.
big() {
	fdeliver "$T/$1.eml"
	printf '%s\t%s\t%s\n' "$1" "$2" "$(VERIFY_LATER=$T/wires/$1 what_happened "$T/$1.eml")" >>"$T/verdicts"
}

{
	echo "$HDR" | sed '/^$/d'
	perl -e 'print "X-Long: ", "x" x (100 * 1024), "\n"'
	printf '\nbody\n'
} >"$T/field-100k-line.eml"
big field-100k-line signed

{
	echo "$HDR" | sed '/^$/d'
	perl -e 'print "Subject: ", join("\n ", ("folded") x (100 * 1024 / 8)), "\n"'
	printf '\nbody\n'
} >"$T/field-100k-folded.eml"
big field-100k-folded signed

{
	echo "$HDR" | sed '/^$/d'
	perl -e 'print "X-Field-$_: value $_\n" for 1 .. 10000'
	printf '\nbody\n'
} >"$T/fields-10000.eml"
big fields-10000 signed

{
	echo "$HDR" | sed '/^$/d'
	perl -e 'print "X-Wide: ", "w" x 5000, "\n"'
	echo
	perl -e 'print "a" x 1500, "\n", "b" x (1024 * 1024), "\n", "end\n"'
} >"$T/long-lines.eml"
big long-lines signed

# The header block (up to and with the last field's LF) at HDR_MAX = 1 MiB
# is signed; one byte more goes on unsigned.
for extra in 0 1; do
	perl -e '$h = shift; $h =~ s/\n+\z/\n/; $want = 1024 * 1024 + shift;
		$pad = $want - length($h) - length("X-Pad: \n");
		print $h, "X-Pad: ", "p" x $pad, "\n\nbody\n"' "$HDR" "$extra" >"$T/header-max-$extra.eml"
done
big header-max-0 signed
big header-max-1 unsigned
ok "the header blocks are 1 MiB and 1 MiB + 1" test \
	"$(sed '/^$/q' "$T/header-max-0.eml" | head -c -1 | wc -c)" -eq 1048576 -a \
	"$(sed '/^$/q' "$T/header-max-1.eml" | head -c -1 | wc -c)" -eq 1048577

verify_many "$T"/wires/* >"$T/verified"
while IFS=$(printf '\t') read -r name want got <&3; do
	bad=$(grep "^$T/wires/$name fail: " "$T/verified" | sed 's/^[^ ]* fail: //')
	if [ -n "$bad" ]; then
		fail "$name"
		diag "signed, but the signature fails: $bad"
	elif [ "$got" = "$want" ]; then
		pass "$name: $got"
	else
		fail "$name"
		diag "got $got, expected $want"
	fi
done 3<"$T/verdicts"

# --- gigabytes ------------------------------------------------------------------
# Sparse: a line every MiB between holes of NULs, so it costs no disk and
# little time to make.  The stand-in keeps a digest of what it read.

if [ -z "${BIG_GB:-}" ]; then
	skip 5 "set BIG_GB=N for an N GB message (about 15 s a GB)"
	exit 0
fi
"$PY" - "$T/huge.eml" "$BIG_GB" "$TOP/tests/msg/simple.eml" <<'EOF'
import sys
path, gb, msg = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], "rb").read()
hdr = msg.split(b"\n\n")[0] + b"\n\n"
size = int(gb * (1 << 30))
with open(path, "wb") as f:
    f.write(hdr)
    pos = len(hdr)
    while pos + (1 << 20) < size:
        pos += 1 << 20
        f.seek(pos)
        f.write(b"a line every MiB, between holes\n")
    f.truncate(size - 1)
    f.seek(size - 1)
    f.write(b"\n")
EOF
set_fault_remote --keep-head 4096
fdeliver "$T/huge.eml"
outcome "$BIG_GB GB: delivered, with more bytes than the queue file" "$T/huge.eml" delivered
perl -0777 -ne 'm/\A((?:DKIM-Signature:.*?\n(?![ \t]))+)/s and print $1' "$T/out/stdin.head" >"$T/sig"
is "$(head -c 15 "$T/sig")" "DKIM-Signature:" "$BIG_GB GB: signed"
is "$(cat "$T/sig" "$T/huge.eml" | sha256sum | cut -d' ' -f1)" "$(cat "$T/out/stdin.sha256")" \
	"$BIG_GB GB: handed on whole, byte for byte after the field"
bh=$(perl -0777 -ne 's/\s+//g; /bh=([^;]*)/ and print $1' "$T/sig")
is "$bh" "$("$PY" "$TOP/tests/body-hash.py" "$T/huge.eml")" "$BIG_GB GB: bh= is the body's relaxed hash"
is "$(cat "$T/out/stdin.size")" "$(($(wc -c <"$T/sig") + $(wc -c <"$T/huge.eml")))" "$BIG_GB GB: size"
