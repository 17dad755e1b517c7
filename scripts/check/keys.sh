# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: the keys qmail-dkim would pick, and their DNS records.

# allowed DOMAIN: may mail from the envelope sender use DOMAIN's key?
# control/dkimsenders, as qmail-dkim reads it: "signing-domain: sender
# domains", * for any sender, <> for bounces; the first line for DOMAIN
# decides, and without a line DOMAIN signs nothing. No file: all may.
allowed() {
	[ -z "$usermode" ] || return 0
	[ -f "$ctl/dkimsenders" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line#"${line%%[! 	]*}"}
		case $line in
		'#'*) continue ;;
		*:*) ;;
		*) continue ;;
		esac
		name=${line%%:*}
		case $name in
		*[A-Z]*) name=$(printf '%s\n' "$name" | tr '[:upper:]' '[:lower:]') ;;
		esac
		[ "$name" = "$1" ] || continue
		old_ifs=$IFS
		IFS=' 	,'
		set -f
		# shellcheck disable=SC2086 # a list of words
		set -- ${line#*:}
		set +f
		IFS=$old_ifs
		for w; do
			case $w in
			*[A-Z]*) w=$(printf '%s\n' "$w" | tr '[:upper:]' '[:lower:]') ;;
			esac
			case $w in
			'*') return 0 ;;
			'<>') [ -n "$sender_domain" ] || return 0 ;;
			*) [ -z "$sender_domain" ] || [ "${w%.}" != "$sender_domain" ] || return 0 ;;
			esac
		done
		return 1
	done <"$ctl/dkimsenders"
	return 1
}

# keys_in DIR: the PEM private keys in DIR, by file name, in $keys_here;
# those listed in $sels (or named default, with no selector file) sign,
# the others are staged: in $staged_here.
keys_in() {
	keys_here='' staged_here=''
	for kf in "$1"/*; do
		[ -f "$kf" ] || continue
		kn=${kf##*/}
		case $kn in selector | identity | *.pub | *.txt) continue ;; esac
		case $kn in .* | *. | *..* | *[!A-Za-z0-9.-]*) continue ;; esac
		grep -q -e '-----BEGIN .*PRIVATE KEY-----' "$kf" 2>/dev/null || continue
		keys_here="$keys_here $kn"
		case " $sels " in *" $kn "*) continue ;; esac
		staged_here="$staged_here $kn"
	done
	keys_here=${keys_here# } staged_here=${staged_here# }
}

# find_keys: the keys qmail-dkim signs a From: address at $domain with:
# those of $domain or its nearest parent that has any, never a bare
# top-level domain. Sets $kdomain and $selectors (a list), or leaves
# $kdomain empty; $sdomain and $staged, the staged keys of $kdomain or,
# when no key of $domain signs, of the nearest domain that has some.
find_keys() {
	kdomain=
	selectors=
	sdomain=
	staged=
	d=$domain
	while :; do
		case $d in *.*) ;; *) break ;; esac
		dir=$kroot/$d
		if ! allowed "$d"; then
			if [ -d "$dir" ]; then
				ok "key: control/dkimsenders does not let senders at ${sender_domain:-<>} use the key of $d: qmail-dkim looks further"
			fi
			d=${d#*.}
			continue
		fi
		if [ -e "$dir" ] && [ ! -d "$dir" ]; then
			fail "key: $dir is not a directory: $defers $d"
			return 0
		fi
		if [ -d "$dir" ]; then
			listed=
			sels=
			if [ -f "$dir/selector" ]; then
				# One selector a line; blanks, blank lines, # comments skipped.
				listed=1
				while IFS= read -r line || [ -n "$line" ]; do
					line=${line%%#*}
					# shellcheck disable=SC2295 # $cr is part of the pattern
					line=${line#"${line%%[! 	$cr]*}"}
					# shellcheck disable=SC2295
					line=${line%"${line##*[! 	$cr]}"}
					[ -n "$line" ] || continue
					case $line in
					.* | *. | *..* | *[!A-Za-z0-9.-]* | selector)
						fail "key: $dir/selector lists '$line', which is not a valid selector: $defers $d"
						fix "put one selector a line: letters, digits, hyphens, dots"
						return 0
						;;
					esac
					case " $sels " in
					*" $line "*) ;;
					*) sels="$sels $line" ;;
					esac
				done <"$dir/selector"
				sels=${sels# }
				if [ -z "$sels" ]; then
					fail "key: $dir/selector lists no selector: $defers $d"
					fix "put the selector in it, or remove it to use the key named default"
					return 0
				fi
			else
				sels=default
			fi
			keys_in "$dir"
			if [ -n "$listed" ] || [ -e "$dir/default" ] || [ -L "$dir/default" ]; then
				for sel in $sels; do
					if [ -e "$dir/$sel" ] || [ -L "$dir/$sel" ]; then
						continue
					fi
					fail "key: $dir/$sel, listed in $dir/selector, does not exist: $defers $d"
					# A new key would sign before its record is published:
					# a key that exists, or the right name, is the fix.
					if [ -n "$staged_here" ]; then
						set --
						for st in $staged_here; do
							set -- "$@" "$kg -A $st $d"
						done
						fix "correct the name in $dir/selector (its keys: $keys_here), or sign with a staged key whose record DNS serves instead (it replaces the listed key of its algorithm):" "$@"
					elif [ -n "$keys_here" ]; then
						fix "correct the name in $dir/selector: its keys are $keys_here"
					else
						fix "remove $dir/selector (qmail-dkim then signs nothing for $d, and defers nothing); then make a key, publish its record and sign with it:" \
							"$kg $d s$(date +%Y%m); then $kg -A s$(date +%Y%m) $d"
					fi
					return 0
				done
				kdomain=$d
				selectors=$sels
				sdomain=$d
				staged=$staged_here
				break
			fi
			if [ -n "$staged_here" ]; then
				warn "key: $dir has staged key(s), not signing: $staged_here; qmail-dkim does not sign with d=$d yet and looks further"
				fix "once DNS serves its record (checked below), sign with it: $kg -A ${staged_here%% *} $d"
				if [ -z "$sdomain" ]; then
					sdomain=$d
					staged=$staged_here
				fi
			else
				warn "key: $dir has no key file default and no selector file; qmail-dkim looks further"
				fix "make a key, publish its record and sign with it: $kg $d s$(date +%Y%m); then $kg -A s$(date +%Y%m) $d"
			fi
		fi
		d=${d#*.}
	done
	if [ -z "$kdomain" ]; then
		if [ -n "$sdomain" ]; then
			warn "key: no key signs for $domain or its parent domains yet (staged only): qmail-dkim does not sign its mail"
			return 0
		fi
		fail "key: no key for $domain or its parent domains under $kroot: qmail-dkim does not sign its mail with d=$domain"
		fix "make one with: $kg $domain s$(date +%Y%m), publish its record, then sign with it: $kg -A s$(date +%Y%m) $domain"
		return 0
	fi
	[ "$kdomain" = "$domain" ] || ok "key: no key for $domain itself; qmail-dkim uses that of its parent $kdomain (d=$kdomain, aligned for DMARC unless adkim=s)"
	# shellcheck disable=SC2086 # selectors are words, checked above
	set -- $selectors
	if [ $# -gt 8 ]; then
		fail "key: $kroot/$kdomain/selector lists $# selectors, more than the 8 qmail-dkim signs with: it defers all mail from $kdomain"
		kdomain=
		return 0
	fi
	[ $# -eq 1 ] || ok "key: $kroot/$kdomain/selector lists $# selectors: qmail-dkim adds a signature for each ($selectors)"
	if [ -f "$kroot/$kdomain/identity" ]; then
		ok "key: $kroot/$kdomain/identity sets i=; the test signature shows whether qmail-dkim takes it"
	fi
}

# key_public FILE: one openssl run: the public key in PEM, whose body is
# the base64 of the DER SubjectPublicKeyInfo, in $spki, then its
# description, in $text; status 1 when openssl cannot read FILE.
key_public() {
	info=$(openssl pkey -in "$1" -passin pass: -pubout -text_pub 2>/dev/null) || return 1
	spki='' text='' inpem=''
	while IFS= read -r line; do
		case $line in
		'-----BEGIN PUBLIC KEY-----') inpem=1 ;;
		'-----END PUBLIC KEY-----') inpem= ;;
		*) if [ -n "$inpem" ]; then spki=$spki$line; else text="$text$line "; fi ;;
		esac
	done <<EOF
$info
EOF
}

# check_key SELECTOR: the key's form, type, size and mode, and whether
# qmail-dkim can read it. Leaves what DNS must publish in $work/want.SELECTOR.
check_key() {
	selector=$1
	key=$kroot/$kdomain/$selector
	if [ -n "$staging" ]; then
		state=": staged, not in the selector file: not signing yet"
	elif [ -f "$kroot/$kdomain/selector" ]; then
		state=": live, in the selector file: signing now"
	else
		state=": live, the key named default (no selector file): signing now"
	fi
	if [ ! -f "$key" ]; then
		bad "key: $key is not a regular file: $defers $kdomain"
		if [ -n "$staged" ]; then
			fix "put the key file itself there (ls -l $key shows what is), or sign with a staged key whose record is published: $kg -A ${staged%% *} $kdomain"
		else
			fix "put the key file itself there (ls -l $key shows what is); a new key would sign before its record is published"
		fi
		return 1
	fi

	# qmail-dkim skips what comes before the armour (blank lines, a BOM).
	first=$(awk '/Proc-Type: 4,ENCRYPTED/ { enc = 1 }
		first == "" && /-----BEGIN / { first = $0; sub(/\r$/, "", first) }
		END { print enc ? "encrypted" : first }' "$key")
	case $first in
	'-----BEGIN PRIVATE KEY-----' | '-----BEGIN RSA PRIVATE KEY-----') ;;
	'-----BEGIN ENCRYPTED PRIVATE KEY-----' | encrypted)
		bad "key: $key is encrypted with a pass phrase; qmail-dkim cannot use it"
		fix "decrypt it: openssl pkey -in $key -out $key.new, then replace the file"
		return 1
		;;
	'')
		bad "key: $key holds no PEM private key (no -----BEGIN line)"
		fix "make a new key: $kg -f $kdomain $selector"
		return 1
		;;
	*)
		first=${first#-----BEGIN }
		bad "key: $key is a ${first%-----}; qmail-dkim takes RSA (PKCS#1 or PKCS#8) and Ed25519 (PKCS#8) PEM keys"
		fix "make a new key: $kg -f $kdomain $selector"
		return 1
		;;
	esac
	if ! key_public "$key"; then
		bad "key: openssl cannot read $key as a private key"
		fix "make a new key: $kg -f $kdomain $selector"
		return 1
	fi
	case $text in
	*ED25519*)
		ktype=ed25519
		if [ "$first" != '-----BEGIN PRIVATE KEY-----' ]; then
			bad "key: $key is an Ed25519 key not in PKCS#8 form; qmail-dkim's library cannot load it"
			fix "openssl pkey -in $key -out $key.new, then replace the file"
			return 1
		fi
		# RFC 8463: p= is the raw key, the last 32 of the 44 DER bytes. The
		# first 12 bytes are 16 base64 characters, so drop those.
		kp=${spki#????????????????}
		ok "key: $key (selector $selector, Ed25519)$state"
		;;
	*Modulus*)
		ktype=rsa
		bits=${text#*(}
		bits=${bits%%" bit)"*}
		case $bits in '' | *[!0-9]*) bits=0 ;; esac
		kp=$spki
		if [ "$bits" -lt 1024 ]; then
			bad "key: $key is RSA $bits bits: qmail-dkim refuses keys under 1024 bits and defers every message"
			fix "make a 2048-bit key: $kg -f $kdomain $selector, and publish its record"
		elif [ "$bits" -lt 2048 ]; then
			warn "key: $key is RSA $bits bits: it works, but 1024-bit keys are weak and receivers are moving away from them"
			fix "make a 2048-bit key under a new selector: $kg $kdomain s$(date +%Y%m)"
		elif [ "$bits" -gt 4096 ]; then
			warn "key: $key is RSA $bits bits: verifiers need handle only up to 4096 (RFC 8301)"
			fix "make a 2048-bit key under a new selector: $kg $kdomain s$(date +%Y%m)"
		else
			ok "key: $key (selector $selector, RSA $bits bits)$state"
		fi
		;;
	*)
		bad "key: $key is neither RSA nor Ed25519"
		fix "make a new key: $kg -f $kdomain $selector"
		return 1
		;;
	esac
	expected="v=DKIM1; k=$ktype; p=$kp"
	printf '%s\n' "$expected" >"$work/want.$selector"
	check_key_access
}

# The user qmail-rspawn runs qmail-remote as must read the key; nobody
# else should. qmail 1.03 drops supplementary groups, so test without them.
check_key_access() {
	# shellcheck disable=SC2012,SC2046 # ls -l is the portable way to read the mode
	set -- $(ls -lnLd "$key")
	perms=$1 kuid=$3 kgid=$4
	if [ -n "$usermode" ]; then
		judge_user "$key" "$perms" "$kuid" 0600
		return 0
	fi
	if judge_key "$key" "$perms" "$kuid"; then
		ok "key: $key is not readable by others ($perms, uid $kuid, gid $kgid)"
	fi
	if ! id -u "$user" >/dev/null 2>&1; then
		bad "key: no user $user to try reading the key as"
		fix "create qmail's users (qmail's INSTALL.ids), or name the user qmail-remote runs as with -u"
		return 0
	fi
	if [ "$myuid" -ne 0 ]; then
		if [ "$myuid" -eq "$(id -u "$user")" ]; then
			run_as() { "$@"; }
		else
			warn "key: not root, so not tried as $user"
			fix "run $prog as root"
			return 0
		fi
	elif ! command -v setpriv >/dev/null 2>&1; then
		warn "key: setpriv (util-linux) not found, so not tried as $user"
		return 0
	fi
	if run_as openssl pkey -in "$key" -passin pass: -noout 2>/dev/null; then
		ok "key: $user (gid $group, no other groups) can read and parse it"
		# The control files qmail-dkim reads beside the key: one it cannot
		# read defers the mail.
		for cf in "$kroot/$kdomain/selector" "$kroot/$kdomain/identity" "$ctl/dkimsenders" "$ctl/dkimrights"; do
			[ -f "$cf" ] || continue
			case " $readable " in *" $cf "*) continue ;; esac
			readable="$readable $cf"
			if ! run_as head -c 1 "$cf" >/dev/null 2>&1; then
				bad "key: $user cannot read $cf: $defers $kdomain"
				fix "chmod 0644 $cf"
			fi
		done
		return 0
	fi
	# Say which step of the path is closed.
	p=$key
	blocked=$key
	while [ "$p" != / ] && [ "$p" != . ]; do
		p=$(dirname "$p")
		if ! run_as test -x "$p"; then
			blocked=$p
		fi
	done
	if [ "$blocked" = "$key" ]; then
		bad "key: $user (gid $group, no other groups) cannot read $key: $defers $kdomain"
		fix "chown $user:$group $key; chmod 0400 $key"
	else
		bad "key: $user (gid $group, no other groups) cannot reach $key, $blocked is closed to it: $defers $kdomain"
		fix "chgrp $group $blocked; chmod g+x $blocked"
	fi
}

run_as() {
	setpriv --reuid="$user" --regid="$group" --clear-groups -- "$@"
}

# record_fix LEAD: the fix that publishes $expected at $dnsname, in the two
# forms qmail-dkim-keygen prints: a zone file line (strings of at most 255
# bytes) and the value for a web panel (one line, no quotes).
record_fix() {
	fix "$1 ($kg -p $kdomain $selector prints it); zone file line:" \
		"$dnsname. IN TXT $(zone_strings "$expected")" \
		"or in a web DNS panel: type TXT, name $selector._domainkey, value (one line, no quotes):" \
		"$expected"
}

# paste_damage RAW: what went wrong, in $damage, when the record's p= is
# not the key's: the damage a copy and paste does, named.
paste_damage() {
	damage=
	case $1 in
	*'" "'*) damage="it holds the zone file line's quotes (\" \"): the zone file form was pasted into a web panel, which takes quotes as text; enter the value without quotes" ;;
	*\"*) damage="it holds quote marks (\"): pasted with its quotes into a web panel, which keeps them as text; enter the value without quotes" ;;
	*BEGIN* | *END*) damage="its p= holds PEM armour (-----BEGIN ...): p= is the base64 alone, as the record below" ;;
	esac
	[ -z "$damage" ] || return 0
	tag_get "$1" p || :
	noblank "$tag"
	case $tag in
	*[\ \	]*) damage="its p= has blanks inside and is still not the key: part of it was lost or changed when pasted" ;;
	esac
	if [ -n "$nb" ] && [ "${kp#"$nb"}" != "$kp" ]; then
		damage="its p= is cut short, ${#nb} of the ${#kp} characters: the value was pasted in part (a field that keeps 255 characters?)"
	fi
	[ -z "$damage" ] || return 0
	tag_get "$1" v ||
		damage="it has no v=DKIM1 at its start: only part of the value was pasted?"
}

check_dns_key() {
	dnsname=$selector._domainkey.$kdomain
	dns "$dnsname" TXT
	case $dns_status in
	NOERROR | NXDOMAIN) ;;
	*)
		: >"$work/dnsfail.$selector"
		bad "dns: lookup of $dnsname TXT failed ($dns_status): whether the record is published is not known"
		fix "check the DNS servers of $kdomain (dig $dnsname TXT)"
		return 0
		;;
	esac
	count_answers
	if [ "$n" -eq 0 ]; then
		if [ -n "$staging" ]; then
			warn "dns: no TXT record at $dnsname yet: publish it before signing with this staged key"
		else
			fail "dns: no TXT record at $dnsname: receivers cannot verify the signature"
		fi
		record_fix "publish it"
		return 0
	fi
	if [ "$n" -gt 1 ]; then
		bad "dns: $n TXT records at $dnsname: verifiers pick one of them"
		record_fix "keep only this one"
		return 0
	fi
	strings=$(txt_strings <"$ans")
	dkim_record=$(txt_join <"$ans")
	printf '%s\n' "$dkim_record" >"$work/rec.$selector"
	faulty=
	tag_get "$dkim_record" v || tag=DKIM1
	v=$tag
	if [ "$v" != DKIM1 ]; then
		bad "dns: $dnsname has v=$v, not v=DKIM1"
		faulty=1
	else
		case $dkim_record in
		[vV]=* | [\ \	]*[vV]=*) ;;
		*)
			if tag_get "$dkim_record" v; then
				bad "dns: $dnsname has v=DKIM1, but not first, where RFC 6376 3.6.1 wants it: verifiers discard the record"
				faulty=1
			fi
			;;
		esac
	fi
	tag_get "$dkim_record" k || tag=rsa
	k=$tag
	if [ "$k" != "$ktype" ]; then
		bad "dns: $dnsname says k=$k but the key is $ktype"
		faulty=1
	fi
	if tag_get "$dkim_record" h; then
		h=$tag
		noblank "$h"
		case ":$nb:" in
		*:sha256:*) ;;
		*)
			bad "dns: $dnsname allows h=$h only; qmail-dkim signs with sha256"
			faulty=1
			;;
		esac
	fi
	if tag_get "$dkim_record" s; then
		s=$tag
		noblank "$s"
		case ":$nb:" in
		*:email:* | *:\*:*) ;;
		*)
			bad "dns: $dnsname is for s=$s, not email"
			faulty=1
			;;
		esac
	fi
	case $dkim_record in
	*"$nl"* | *"$cr"*)
		bad "dns: the record at $dnsname has a line break inside: the value was pasted wrapped, and verifiers that read RFC 6376 strictly reject it"
		faulty=1
		;;
	esac
	tag_get "$dkim_record" p || :
	noblank "$tag"
	p=$nb
	if [ -z "$p" ]; then
		bad "dns: $dnsname has no key (empty or missing p=): the key is revoked"
		faulty=1
	elif [ "$p" != "$kp" ]; then
		paste_damage "$dkim_record"
		if [ -n "$damage" ]; then
			bad "dns: the record at $dnsname is not the public half of $key: $damage"
		else
			bad "dns: the key published at $dnsname is not the public half of $key"
		fi
		faulty=1
	fi
	if [ -n "$faulty" ]; then
		record_fix "publish this record instead"
		return 0
	fi
	: >"$work/good.$selector"
	if [ -n "$staging" ]; then
		ok "dns: $dnsname matches the staged key ($strings string(s) joined, ${#dkim_record} characters): sign with it by $kg -A $selector $kdomain"
	else
		ok "dns: $dnsname matches the key ($strings string(s) joined, ${#dkim_record} characters)"
	fi
	if tag_get "$dkim_record" t; then
		noblank "$tag"
		case ":$nb:" in
		*:y:*)
			warn "dns: $dnsname has t=y (testing): receivers may treat signed mail as unsigned"
			fix "remove t=y from the record once mail verifies"
			;;
		esac
	fi
}

zone_strings() {
	printf '%s\n' "$1" | awk '{
		s = $0; out = ""
		while (length(s) > 255) { out = out "\"" substr(s, 1, 255) "\" "; s = substr(s, 256) }
		print out "\"" s "\""
	}'
}
