# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: -a, every domain with a key directory, one line
# each, for a host with many domains: cron mail (-q) and monitoring (the
# exit status). The whole check of one domain stays qmail-dkim-check DOMAIN.

# ---- what the run needs, read once ------------------------------------------

# all_domains: the domains with a key directory, in $work/keyed; with -A
# those control/rcpthosts and control/virtualdomains name and that have
# none, in $work/keyless. Wildcards (.example.com) and single addresses
# (user@example.com in virtualdomains) name no domain of their own;
# users/assign names local parts, not domains.
all_domains() {
	: >"$work/notdomains"
	for dd in "$kroot"/*/; do
		dd=${dd%/}
		dd=${dd##*/}
		if valid_domain "$dd"; then
			printf '%s\n' "$dd"
		elif [ "$dd" != '*' ]; then
			# qmail-dkim looks a domain up in lower case
			printf '%s\n' "$dd" >>"$work/notdomains"
		fi
	done | sort >"$work/keyed"
	: >"$work/keyless"
	[ -n "$keyless" ] || return 0
	for f in "$ctl/rcpthosts" "$ctl/virtualdomains"; do
		[ ! -f "$f" ] || cat "$f"
	done | awk '{ sub(/\r$/, ""); sub(/:.*/, ""); $0 = tolower($0) }
		/^[a-z0-9][a-z0-9.-]*\.[a-z0-9-]+$/' | sort -u |
		comm -13 "$work/keyed" - >"$work/keyless"
}

# rights_map: who control/dkimrights lets sign as each domain, in
# $work/rights/DOMAIN (WHO,WHO...), and as every domain (*), in
# $work/rights/.star. $norights when there is no such file.
rights_map() {
	mkdir "$work/rights"
	: >"$work/rights/.star"
	norights=
	if [ ! -f "$ctl/dkimrights" ]; then
		norights=1
		return 0
	fi
	awk -v dir="$work/rights" '
	{ sub(/#.*/, ""); sub(/\r$/, "") }
	(c = index($0, ":")) {
		w = substr($0, 1, c - 1); gsub(/[ \t]/, "", w)
		if (w == "") next
		n = split(substr($0, c + 1), ds, /[ \t]+/)
		for (i = 1; i <= n; i++) {
			d = ds[i]
			if (d == "*") { star = star (star == "" ? "" : ",") w; continue }
			if (d !~ /^[a-z0-9][a-z0-9.-]*$/) continue
			who[d] = who[d] (who[d] == "" ? "" : ",") w
		}
	}
	END {
		for (d in who) { f = dir "/" d; print who[d] > f; close(f) }
		print star > (dir "/.star")
	}' "$ctl/dkimrights"
}

# key_ages: each key file's age in whole days, in $work/age/DOMAIN, lines
# "FILE DAYS": from stat (GNU, busybox: -c; BSD: -f) when there is one,
# else "FILE old" for those POSIX find -mtime calls older than $maxage.
key_ages() {
	mkdir "$work/age"
	now=$(date +%s 2>/dev/null) || now=
	case $now in '' | *[!0-9]*) now= ;; esac
	how=mtime
	if [ -n "$now" ] && stat -c '%Y %n' "$kroot" >/dev/null 2>&1; then
		how=-c
	elif [ -n "$now" ] && stat -f '%m %N' "$kroot" >/dev/null 2>&1; then
		how=-f
	else
		now=
	fi
	case $how in
	-c) find "$kroot" -type f -exec stat -c '%Y %n' {} + 2>/dev/null ;;
	-f) find "$kroot" -type f -exec stat -f '%m %N' {} + 2>/dev/null ;;
	*) find "$kroot" -type f -mtime +"$((maxage - 1))" 2>/dev/null | sed 's/^/old /' ;;
	esac | awk -v now="$now" -v root="$kroot/" -v dir="$work/age" '
	{
		t = $1; p = $0; sub(/^[^ ]+ /, "", p)
		if (substr(p, 1, length(root)) != root) next
		p = substr(p, length(root) + 1)
		if ((c = index(p, "/")) == 0) next
		d = substr(p, 1, c - 1); f = substr(p, c + 1)
		if (d !~ /^[a-z0-9][a-z0-9.-]*$/ || f ~ /\//) next
		out[d] = out[d] f " " (now == "" ? t : int((now - t) / 86400)) "\n"
	}
	END { for (d in out) { o = dir "/" d; printf "%s", out[d] > o; close(o) } }'
}

# unreadable FILE...: those of the FILEs that $user (gid $group, no other
# groups: qmail 1.03 drops them) cannot read, one a line, in one run of
# setpriv; nothing, and status 1, when that cannot be tried (not root,
# no setpriv, no such user).
unreadable() {
	[ "$myuid" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
		id -u "$user" >/dev/null 2>&1 || return 1
	[ $# -gt 0 ] || return 0
	# shellcheck disable=SC2016 # the inner shell expands them
	setpriv --reuid="$user" --regid="$group" --clear-groups -- \
		/bin/sh -c 'for f; do [ -r "$f" ] || printf "%s\n" "$f"; done' sh "$@"
}

# ---- one domain ---------------------------------------------------------------

# raise STATUS: the domain's status is the worst of what was found.
raise() {
	case $1/$dst in
	FAIL/* | WARN/OK) dst=$1 ;;
	esac
}

# problem STATUS TEXT [FIX]: one thing wrong with the domain.
problem() {
	raise "$1"
	probs="$probs${probs:+; }$2"
	[ -z "${3:-}" ] || fixes="$fixes$nl$3"
}

# dns_state NAME: whether the one TXT record at NAME is the key $ktype,
# $kp (v=, k= and p= as verifiers read them, RFC 6376 3.6.1): $dstate is
# match, missing, differs, several or failed, $dwhy says it in words.
dns_state() {
	dns "$1" TXT
	case $dns_status in
	NOERROR | NXDOMAIN) ;;
	*)
		dstate=failed dwhy="the lookup of $1 TXT failed ($dns_status)"
		return 0
		;;
	esac
	count_answers
	if [ "$n" -eq 0 ]; then
		dstate=missing dwhy="no TXT record at $1"
		return 0
	fi
	if [ "$n" -gt 1 ]; then
		dstate=several dwhy="$n TXT records at $1, and verifiers pick one"
		return 0
	fi
	rec=$(txt_join <"$ans")
	# (tag_get uses $k and $v itself)
	tag_get "$rec" v || tag=DKIM1
	rv=$tag
	tag_get "$rec" k || tag=rsa
	rk=$tag
	tag_get "$rec" p || :
	noblank "$tag"
	if [ "$rv" != DKIM1 ] || [ "$rk" != "$ktype" ] || [ "$nb" != "$kp" ]; then
		dstate=differs dwhy="the record at $1 is not this key's"
		return 0
	fi
	dstate=match dwhy=
}

# inv_domain DOMAIN: its one line, and a fix line for each thing wrong.
inv_domain() {
	d=$1
	dir=$kroot/$d
	dst=OK probs='' fixes='' desc=''
	rollover="$kg $d $newsel; publish the record it prints; once DNS serves it: $kg -A $newsel $d"
	sels='' listed=''
	if [ -f "$dir/selector" ]; then
		listed=1
		case $nl$closed$nl in
		*"$nl$dir/selector$nl"*)
			problem FAIL "$user (gid $group, no other groups) cannot read $dir/selector: $defers $d" "chmod 0644 $dir/selector"
			;;
		esac
		sels=$(awk '{ sub(/#.*/, ""); sub(/\r$/, "") } NF { printf "%s%s", sep, $1; sep = " " }' "$dir/selector")
		if [ -z "$sels" ]; then
			problem FAIL "$dir/selector lists no selector: $defers $d" \
				"put the selector in it, or remove it to sign with the key named default"
		fi
	else
		sels=default
	fi
	keys_in "$dir"
	live=''
	if [ -n "$listed" ] || [ -e "$dir/default" ]; then
		for s in $sels; do
			case " $keys_here " in
			*" $s "*) live="$live $s" ;;
			*)
				desc="$desc $s=live/nokey"
				if [ -n "$listed" ]; then
					problem FAIL "$dir/selector lists $s, which is no key file: $defers $d" \
						"correct $dir/selector (the keys: ${keys_here:-none}), or make a key: $rollover"
				else
					problem FAIL "$dir/default, which signs when there is no selector file, is no key file: $defers $d" \
						"remove it, and make a key: $rollover"
				fi
				;;
			esac
		done
	fi
	# the grants, before the keys: a key's fix may name the user
	rw=
	if [ -n "$norights" ]; then
		rw=anyone
	else
		[ ! -s "$work/rights/$d" ] || read -r rw <"$work/rights/$d"
		if [ -z "$rw" ]; then
			read -r star <"$work/rights/.star" || star=
			if [ -n "$star" ]; then
				rw="*($star)"
			else
				rw=none
				problem WARN "no line of control/dkimrights grants $d: no local user's mail is signed as $d" \
					"add the user who sends its mail: USER: $d (qmail-dkim-check $d proposes one)"
			fi
		fi
	fi
	[ -f "$work/age/$d" ] || : >"$work/age/$d"
	good_staged=''
	for s in $keys_here; do
		case " $live " in
		*" $s "*) role=live ;;
		*) role=staged ;;
		esac
		age='?'
		while read -r f a; do
			[ "$f" != "$s" ] || age=$a
		done <"$work/age/$d"
		shown=$age
		case $age in [0-9]*) shown=${age}d ;; esac
		if [ ! -r "$dir/$s" ]; then
			desc="$desc $s=$role/unread/$shown"
			problem WARN "cannot read the key $dir/$s, so it is not checked" "run $prog as root"
			continue
		fi
		case $nl$closed$nl in
		*"$nl$dir/$s$nl"*)
			if [ "$role" = live ]; then
				problem FAIL "$user (gid $group, no other groups) cannot read the key $dir/$s: $defers $d" "chown $user:$group $dir/$s; chmod 0400 $dir/$s (qmail-dkim-check $d says which directory is closed)"
			else
				problem WARN "$user (gid $group, no other groups) cannot read the staged key $dir/$s: once listed, it defers all mail from $d" "chown $user:$group $dir/$s; chmod 0400 $dir/$s"
			fi
			;;
		esac
		if ! key_public "$dir/$s"; then
			desc="$desc $s=$role/badkey/$shown"
			if [ "$role" = live ]; then
				problem FAIL "openssl cannot read the key $dir/$s: $defers $d" "make a new key: $rollover"
			else
				problem WARN "openssl cannot read the staged key $dir/$s" "remove it: $kg -R $s $d"
			fi
			continue
		fi
		case $text in
		*ED25519*) ktype=ed25519 kp=${spki#????????????????} ;;
		*)
			ktype=rsa kp=$spki
			bits=${text#*(}
			bits=${bits%%" bit)"*}
			case $bits in '' | *[!0-9]*) bits=0 ;; esac
			# RFC 8301 3.2: at least 1024 bits, 2048 advised, at most 4096 verified
			if [ "$bits" -lt 1024 ]; then
				if [ "$role" = live ]; then
					problem FAIL "the key $s is RSA $bits bits: qmail-dkim refuses keys under 1024 bits and $defers $d" "make a 2048-bit key: $rollover"
				else
					problem WARN "the staged key $s is RSA $bits bits, under the 1024 qmail-dkim takes" "remove it: $kg -R $s $d"
				fi
			elif [ "$bits" -lt 2048 ] || [ "$bits" -gt 4096 ]; then
				problem WARN "the key $s is RSA $bits bits: RFC 8301 asks for 2048 (verifiers handle up to 4096)" "make a 2048-bit key: $rollover"
			fi
			;;
		esac
		dns_state "$s._domainkey.$d"
		desc="$desc $s=$role/$dstate/$shown"
		record="$kg -p -z zone $d $s prints it"
		case $role/$dstate in
		*/match) [ "$role" = live ] || good_staged="$good_staged $s" ;;
		live/missing) problem FAIL "$dwhy: receivers cannot verify what $s signs" "publish the record ($record)" ;;
		live/failed) problem FAIL "$dwhy: whether receivers can verify what $s signs is not known" "check the DNS servers of $d (dig $s._domainkey.$d TXT)" ;;
		live/*) problem FAIL "$dwhy: receivers fail what $s signs" "publish this key's record instead ($record); qmail-dkim-check $d says what is wrong" ;;
		staged/missing) problem WARN "$dwhy yet: publish it before signing with the staged key $s" "publish the record ($record)" ;;
		staged/failed) problem WARN "$dwhy (the staged key $s)" "check the DNS servers of $d (dig $s._domainkey.$d TXT)" ;;
		staged/*) problem WARN "$dwhy (the staged key $s)" "publish this key's record ($record) before $kg -A $s $d" ;;
		esac
		if [ "$role" = live ]; then
			case $age in
			old) old=1 ;;
			[0-9]*) old=$((age >= maxage)) ;;
			*) old=0 ;;
			esac
			if [ "$old" = 1 ] && [ "$age" = old ]; then
				problem WARN "the key $s is older than $maxage days: roll it over (RFC 6376 3.1, M3AAWG)" "$rollover; a week later: $kg -R $s $d"
			elif [ "$old" = 1 ]; then
				problem WARN "the key $s is $age days old, more than $maxage: roll it over (RFC 6376 3.1, M3AAWG)" "$rollover; a week later: $kg -R $s $d"
			fi
		fi
	done
	# no selector file, no key named default: nothing signs
	if [ -z "$listed" ] && [ ! -e "$dir/default" ]; then
		if [ -n "$good_staged" ]; then
			# shellcheck disable=SC2086 # selectors, no blanks
			set -- $good_staged
			problem WARN "not signing yet: the staged key $1 is published" "sign with it: $kg -A $1 $d"
		elif [ -z "$keys_here" ]; then
			desc=" -"
			problem WARN "$dir holds no key: mail from $d goes out unsigned" "make one: $rollover"
		else
			problem WARN "not signing yet: staged key(s) only"
		fi
	fi
	inv_line "$desc" "$rw"
}

# inv_keyless DOMAIN: a domain of this host without a key directory (-A):
# signed with its nearest parent's key, if one has a directory.
inv_keyless() {
	d=$1
	dst=OK probs='' fixes=''
	p=${1#*.}
	while :; do
		case $p in *.*) ;; *) break ;; esac
		if grep -q -x -F -e "$p" "$work/keyed"; then
			probs="no key of its own: qmail-dkim signs its mail with d=$p (qmail-dkim-check $p)"
			inv_line " parent=$p" -
			return 0
		fi
		p=${p#*.}
	done
	problem WARN "no key: mail from $d goes out unsigned" \
		"make one: $kg -a USER $d s$(date +%Y%m) (or all at once: $kg -V)"
	inv_line " -" -
}

# inv_line KEYS RIGHTS: print the line and its fixes.
inv_line() {
	printf '%-5s %s%s rights=%s%s\n' "$dst" "$d" "$1" "$2" "${probs:+  $probs}"
	printf '%s\n' "$fixes" | while IFS= read -r f; do
		[ -z "$f" ] || printf '      fix: %s\n' "$f"
	done
}

# ---- all of them --------------------------------------------------------------

# all_main: -a's setup; then check_all.
all_main() {
	myuid=$(id -u)
	cr=$(printf '\r')
	nl='
'
	case $jobs in '' | *[!0-9]* | 0) die "invalid -j '$jobs': give the number of checks run at once" ;; esac
	if [ -z "$maxage" ] && [ -r "$home/control/dkimkeyage" ]; then
		IFS=' 	' read -r maxage <"$home/control/dkimkeyage" || :
	fi
	: "${maxage:=365}"
	case $maxage in '' | *[!0-9]* | 0) die "invalid key age '$maxage' (-m or control/dkimkeyage): give days" ;; esac
	command -v dig >/dev/null 2>&1 || die "dig not found: apt-get install bind9-dnsutils"
	command -v openssl >/dev/null 2>&1 || die "openssl not found: apt-get install openssl"
	ctl=$home/control
	kroot=$ctl/domainkeys
	[ -d "$ctl" ] || die "no qmail control directory $ctl (use -d QMAILHOME)"
	kg=qmail-dkim-keygen
	[ "$home" = /var/qmail ] || kg="$kg -d $home"
	defers="qmail-dkim defers all mail from"
	usermode=''
	# the selector a rollover's fix names
	newsel=s$(date +%Y%m)
	make_work
	case $home in
	/*) abshome=$home ;;
	*) abshome=$(pwd)/$home ;;
	esac
	[ -n "$quiet" ] ||
		echo "$prog: every domain with a key in $kroot${keyless:+, and those of control/rcpthosts and control/virtualdomains without one} (DNS ${dns_server:-system resolver}${dns_port:+ port $dns_port}; keys older than $maxage days WARN)"
	check_all
}

# inv_worker FILE: the domains in FILE, each into $work/res/DOMAIN; their
# DNS names asked in one dig first (answers kept for the run, dns.sh).
inv_worker() {
	list=$1
	# what qmail-dkim reads, tried as $user all at once
	set --
	while read -r d; do
		for kf in "$kroot/$d"/*; do
			[ -f "$kf" ] || continue
			case ${kf##*/} in identity | *.pub | *.txt | .*) continue ;; esac
			set -- "$@" "$kf"
		done
	done <"$list"
	closed=$(unreadable "$@") || closed=
	set --
	while read -r d; do
		dir=$kroot/$d
		for kf in "$dir"/*; do
			[ -f "$kf" ] || continue
			s=${kf##*/}
			case $s in selector | identity | *.pub | *.txt | .* | *[!A-Za-z0-9.-]*) continue ;; esac
			set -- "$@" "$s._domainkey.$d" TXT
		done
	done <"$list"
	# a server that does not answer the first would keep each of the
	# others waiting as long (dig's +time, +tries): ask them only if it does
	if [ $# -gt 0 ]; then
		dns_fetch "$1" "$2"
		read -r st <"$work/dns/$1 $2.status"
		if [ "$st" = UNREACHABLE ]; then
			while [ $# -ge 2 ]; do
				echo UNREACHABLE >"$work/dns/$1 $2.status"
				: >"$work/dns/$1 $2"
				shift 2
			done
		else
			dns_fetch "$@"
		fi
	fi
	while read -r d; do
		inv_domain "$d" >"$work/res/$d"
	done <"$list"
}

# check_all: the host's own lines (the key tree, control/dkimrights), then
# a line for each domain, then the summary; sets $allstatus, the Nagios
# convention: 0 all OK, 1 a WARN, 2 a FAIL.
check_all() {
	all_domains
	rights_map
	key_ages
	mkdir "$work/res" "$work/part"
	# The host's checks: what ails one file ails every domain.
	inventory=1
	kdomain='' selectors=''
	{
		check_key_tree
		check_rights
		while IFS= read -r dd; do
			warn "key: $kroot/$dd is not a domain name in lower case: qmail-dkim never signs with what is in it"
			fix "rename it to the domain's name in lower case (mv), or remove it"
		done <"$work/notdomains"
		# a control file qmail-dkim cannot read defers all mail
		set --
		for cf in "$ctl/dkimrights" "$ctl/dkimsenders"; do
			[ ! -f "$cf" ] || set -- "$@" "$cf"
		done
		if [ $# -gt 0 ]; then
			unreadable "$@" >"$work/closed" || :
			while IFS= read -r cf; do
				fail "rights: $user (gid $group, no other groups) cannot read $cf: qmail-dkim defers all mail"
				fix "chmod 0644 $cf"
			done <"$work/closed"
		fi
	} >"$work/host"
	hostwarn=$nwarn hostfail=$nfail
	# -q: only what is wrong
	awk -v q="$quiet" '
		/^(OK|WARN|FAIL) / { show = !q || $1 != "OK" }
		show' "$work/host"
	# Bounded parallelism: $jobs workers, the domains dealt round.
	awk -v n="$jobs" -v dir="$work/part" '{ print > (dir "/" (NR % n)) }' "$work/keyed"
	for part in "$work/part"/*; do
		[ -f "$part" ] || continue
		inv_worker "$part" &
	done
	wait
	while read -r d; do
		inv_keyless "$d" >"$work/res/$d"
	done <"$work/keyless"
	sort "$work/keyed" "$work/keyless" | while read -r d; do
		if [ -f "$work/res/$d" ]; then
			cat "$work/res/$d"
		else
			printf 'FAIL  %s  the check of it did not finish\n' "$d"
		fi
	done >"$work/lines"
	awk -v q="$quiet" '
		/^(OK|WARN|FAIL) / { show = !q || $1 != "OK"; n[$1]++; d++ }
		show { print }
		END { printf "%d %d %d %d\n", d, n["OK"], n["WARN"], n["FAIL"] > cf }
	' cf="$work/counts" "$work/lines"
	read -r ndom dok dwarn dfail <"$work/counts"
	allstatus=0
	[ $((dwarn + hostwarn)) -eq 0 ] || allstatus=1
	[ $((dfail + hostfail)) -eq 0 ] || allstatus=2
	if [ -z "$quiet" ] || [ "$allstatus" -ne 0 ]; then
		echo "$prog: $ndom domains: $dok OK, $dwarn WARN, $dfail FAIL; the host: $hostwarn WARN, $hostfail FAIL"
	fi
}
