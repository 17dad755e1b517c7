# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: who can change the keys, and who may sign as which domain.

# ---- who can change the keys, and who may sign as which domain ---------------
# These look at the whole host, whatever DOMAIN is checked: a key directory
# another user can write, or a missing control/dkimrights on a host with
# many domains, lets one user sign as another's domain.

# trusted_uid UID: root, or ourselves when not run as root (as keygen).
trusted_uid() {
	[ "$1" -eq 0 ] || { [ "$myuid" -ne 0 ] && [ "$1" -eq "$myuid" ]; }
}

# judge_dir DIR PERMS UID MODE: a directory keys are in, or control/ above
# them, must be root's and writable by root only; MODE is the fix's mode.
judge_dir() {
	if ! trusted_uid "$3"; then
		fail "key: $1 belongs to uid $3, who can replace the keys under it, and put links where qmail-dkim-keygen, run as root, writes"
	else
		case $2 in
		????????w*) fail "key: $1 is writable by every user ($2), who can replace the keys under it" ;;
		?????w*) fail "key: $1 is writable by its group ($2), whose users can replace the keys under it" ;;
		*) return 0 ;;
		esac
	fi
	fix "chown root:$group $1; chmod $4 $1"
}

# judge_key FILE PERMS UID: a private key is readable by $user alone and
# writable by nobody but root. 0 when it is.
judge_key() {
	case $2 in
	???????r* | ????????w* | ?????????x*)
		fail "key: $1 is readable or writable by every local user ($2)"
		;;
	?????w*)
		fail "key: $1 is writable by its group ($2): they can replace the key"
		;;
	??w*)
		if [ "$3" -ne 0 ]; then
			fail "key: $1 is writable by its owner, uid $3 ($2): only root should change a key"
		else
			return 0
		fi
		;;
	????r*)
		warn "key: $1 is readable by its group ($2): only $user needs to read it"
		;;
	*) return 0 ;;
	esac
	fix "chown $user:$group $1; chmod 0400 $1"
	return 1
}

# check_key_tree: the owners and modes of control/, control/domainkeys, each
# domain's directory and every private key in them (the keys qmail-dkim
# signs with here are judged in check_key_access). Sets $kdoms to the
# domains that have a key.
check_key_tree() {
	kdoms=
	[ -d "$kroot" ] || return 0
	if [ ! -r "$kroot" ] || [ ! -x "$kroot" ]; then
		warn "key: cannot list $kroot, so the other domains' keys and rights are not checked"
		fix "run $prog as root"
		return 0
	fi
	# One ls for the directories, one for what is in them: programs are slow.
	# shellcheck disable=SC2012 # ls -l is the portable way to read owners
	ls -lndL -- "$ctl" "$kroot" "$kroot"/*/ 2>/dev/null >"$work/dirs" || :
	while read -r perms _ uid _ _ _ _ _ name; do
		case $perms in d*) ;; *) continue ;; esac
		name=${name%/}
		case $name in
		"$ctl") judge_dir "$name" "$perms" "$uid" 0755 ;;
		*) judge_dir "$name" "$perms" "$uid" 0750 ;;
		esac
	done <"$work/dirs"
	# $kroot first, so that ls heads each listing with its directory.
	# shellcheck disable=SC2012
	ls -lnAL -- "$kroot" "$kroot"/*/ 2>/dev/null >"$work/keys" || :
	dir=$kroot
	while IFS= read -r line; do
		case $line in
		*/: | *:)
			dir=${line%:}
			dir=${dir%/}
			d=${dir##*/}
			if [ "$dir" != "$kroot" ] && { [ -f "$dir/selector" ] || [ -f "$dir/default" ]; }; then
				kdoms="$kdoms $d"
			fi
			continue
			;;
		-*) ;;
		*) continue ;;
		esac
		[ "$dir" != "$kroot" ] || continue
		set -f
		# shellcheck disable=SC2086 # the fields of ls -l
		set -- $line
		set +f
		[ $# -eq 9 ] || continue
		name=$9
		case $name in
		.* | *.pub | *.txt | selector | identity) continue ;;
		esac
		if [ "$d" = "$kdomain" ]; then
			case " $selectors " in *" $name "*) continue ;; esac
		fi
		judge_key "$dir/$name" "$1" "$3" || :
	done <"$work/keys"
	kdoms=${kdoms# }
}

# owner_of DOMAIN: sets $who to the user who most likely sends DOMAIN's
# mail, and $how to where that was read; both empty when nothing says.
# control/virtualdomains gives DOMAIN's user prefix; users/assign (the
# source of qmail-newu's cdb) maps the prefix to a user and uid, else the
# prefix is a user name. Failing that, a home directory named DOMAIN, or
# a DOMAIN directory in a user's home, names its owner.
owner_of() {
	who='' how=''
	vd=$ctl/virtualdomains
	if [ -f "$vd" ]; then
		# DOMAIN:PREFIX, else the longest .PARENT:PREFIX (qmail-send(8)).
		prefix=$(awk -v d="$1" '{ sub(/\r$/, "") }
			!(c = index($0, ":")) { next }
			{ k = tolower(substr($0, 1, c - 1)); v = substr($0, c + 1) }
			k == d { exact = v; found = 1 }
			substr(k, 1, 1) == "." && length(k) > best && substr(d, length(d) - length(k) + 1) == k { best = length(k); wild = v }
			END { if (found) print exact; else if (best) print wild }' "$vd")
		if [ -n "$prefix" ]; then
			assign=$home/users/assign
			if [ -f "$assign" ]; then
				# The longest +loc: that starts "PREFIX-", or =PREFIX:.
				# shellcheck disable=SC2046 # a user name and a uid
				set -- $(awk -F: -v p="$prefix" '
					$1 == "=" p && !exact { exact = $2 " " $3 }
					substr($1, 1, 1) == "+" {
						loc = substr($1, 2)
						if (loc != "" && index(p "-", loc) == 1 && length(loc) > best) { best = length(loc); w = $2 " " $3 }
					}
					END { if (w != "") print w; else if (exact != "") print exact }' "$assign")
				if [ $# -eq 2 ]; then
					if [ "$(id -u "$1" 2>/dev/null)" = "$2" ]; then who=$1; else who=$2; fi
					how="control/virtualdomains and users/assign"
					return 0
				fi
			fi
			for u in "$prefix" "${prefix%%-*}"; do
				if id -u "$u" >/dev/null 2>&1; then
					who=$u how=control/virtualdomains
					return 0
				fi
			done
		fi
	fi
	if command -v getent >/dev/null 2>&1; then
		getent passwd
	else
		cat /etc/passwd
	fi >"$work/passwd" 2>/dev/null || :
	while IFS=: read -r u _ uid _ _ hd _; do
		case $uid in '' | *[!0-9]*) continue ;; esac
		[ "$uid" -ne 0 ] || continue
		case $hd in /) continue ;; esac
		if [ "${hd##*/}" = "$1" ] && [ -d "$hd" ]; then
			f=$hd
		elif [ -d "$hd/$1" ]; then
			f=$hd/$1
		else
			continue
		fi
		# shellcheck disable=SC2012,SC2046 # ls -l is the portable way to read the owner
		set -- $(ls -lnd -- "$f")
		[ "$3" = "$uid" ] || continue
		who=$u how="the owner of $f"
		return 0
	done <"$work/passwd"
}

# propose_rights: the control/dkimrights to write, from the domains that
# have keys and owner_of each; on stdout.
propose_rights() {
	printf '%s\n' "# WHO: DOMAIN...     who may sign as which d= domains (qmail-dkim(8))" \
		"# root's own mail (cron, reports) may be signed as any domain" "root: *"
	: >"$work/grants"
	for d in $kdoms; do
		# A subdomain without an owner of its own goes with its parent's.
		p=$d
		while :; do
			owner_of "$p"
			[ -z "$who" ] || break
			p=${p#*.}
			case $p in *.*) ;; *) break ;; esac
		done
		[ "$p" = "$d" ] || how="$how, for $p"
		if [ -n "$who" ]; then
			printf '%s %s %s\n' "$who" "$d" "$how" >>"$work/grants"
		else
			printf '%s\n' "# ?: $d" >>"$work/unknown"
		fi
	done
	awk '{ if (!($1 in line)) { order[++n] = $1; line[$1] = $1 ":" }
		line[$1] = line[$1] " " $2 }
		END { for (i = 1; i <= n; i++) print line[order[i]] }' "$work/grants"
	if [ -f "$work/unknown" ]; then
		echo "# owners not found: for each, write the user who sends its mail for ?"
		cat "$work/unknown"
	fi
}

# check_rights: control/dkimrights, "WHO: DOMAIN..." lines, WHO a user
# name, a uid or @group, DOMAIN a signing domain in lower case or *; blank
# lines and # comments skipped. No file: everyone may sign as every domain.
check_rights() {
	rights=$ctl/dkimrights
	if [ ! -e "$rights" ] && [ ! -L "$rights" ]; then
		set -f
		# shellcheck disable=SC2086 # domain names, no blanks
		set -- $kdoms
		set +f
		if [ $# -gt 1 ]; then
			if [ -n "$inventory" ]; then
				fail "rights: keys for $# domains and no $rights: every local user may sign as any of them, so one customer's mail passes DKIM as another's domain"
				fix "write $rights, mode 0644: qmail-dkim-check DOMAIN (any of them) proposes it"
				return 0
			fi
			fail "rights: keys for $# domains ($kdoms) and no $rights: every local user may sign as any of them, so one customer's mail passes DKIM as another's domain"
			propose_rights >"$work/proposed"
			set --
			while IFS= read -r line; do
				set -- "$@" "  $line"
			done <"$work/proposed"
			fix "write $rights, mode 0644, with (owners read from control/virtualdomains, users/assign and home directories; check every line):" "$@"
		elif [ $# -eq 1 ]; then
			ok "rights: no $rights: every local user may sign as $kdoms, the only domain with a key"
		fi
		return 0
	fi
	if [ ! -f "$rights" ]; then
		fail "rights: $rights is not a regular file"
		fix "remove it, and write the file (see qmail-dkim(8))"
		return 0
	fi
	# shellcheck disable=SC2012,SC2046 # ls -l is the portable way to read the owner
	set -- $(ls -lnL -- "$rights")
	if ! trusted_uid "$3"; then
		fail "rights: $rights belongs to uid $3, who can let anyone sign as any domain"
		fix "check every line of it, then: chown root:$group $rights; chmod 0644 $rights"
	else
		case $1 in
		?????w* | ????????w*)
			fail "rights: $rights is writable by others ($1), who can let anyone sign as any domain"
			fix "check every line of it, then: chmod 0644 $rights"
			;;
		esac
	fi
	n=0 all='' granted='' whos='' forwarders=''
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		# shellcheck disable=SC2295 # $cr is part of the pattern
		line=${line%"${line##*[! 	$cr]}"}
		line=${line#"${line%%[! 	]*}"}
		[ -n "$line" ] || continue
		case $line in
		*:*) ;;
		*)
			fail "rights: $rights line $n: no colon in '$line'"
			fix "write it as WHO: DOMAIN..., WHO a user name, a uid or @group"
			continue
			;;
		esac
		w=${line%%:*}
		w=${w%"${w##*[! 	]}"}
		case $w in
		@*) wname=${w#@} ;;
		*) wname=$w ;;
		esac
		case $wname in
		'' | -* | *[!A-Za-z0-9_.-]*)
			fail "rights: $rights line $n: '$w' is not a user name, a uid or @group"
			fix "write it as WHO: DOMAIN..., WHO a user name, a uid or @group"
			continue
			;;
		esac
		set -f
		# shellcheck disable=SC2086 # a list of words
		set -- ${line#*:}
		set +f
		if [ $# -eq 0 ]; then
			fail "rights: $rights line $n: no domain after '$w:'"
			fix "name the domains $w may sign as, or remove the line"
			continue
		fi
		bad=
		for dd; do
			case $dd in '*' | forwarder) continue ;; esac
			valid_domain "$dd" && continue
			bad=1
			case $dd in
			*[A-Z]*)
				fail "rights: $rights line $n: '$dd' is not in lower case"
				fix "write it as $(printf '%s\n' "$dd" | tr '[:upper:]' '[:lower:]')"
				;;
			*)
				fail "rights: $rights line $n: '$dd' is not a domain name, * or forwarder"
				fix "write domain names, such as example.com, * for all, or forwarder for a trusted forwarder (qmail-dkim(8))"
				;;
			esac
		done
		[ -z "$bad" ] || continue
		case $w in
		@*)
			if command -v getent >/dev/null 2>&1 && ! getent group "$wname" >/dev/null 2>&1; then
				warn "rights: $rights line $n: there is no group $wname: the line lets nobody sign"
				fix "name an existing group, or remove the line"
			fi
			;;
		*[!0-9]*)
			if ! id -u "$w" >/dev/null 2>&1; then
				warn "rights: $rights line $n: there is no user $w: the line lets nobody sign"
				fix "name an existing user or a uid, or remove the line"
			fi
			;;
		esac
		for dd; do
			if [ "$dd" = forwarder ]; then
				forwarders="$forwarders $w"
				continue
			elif [ "$dd" = '*' ]; then
				all=1
			else
				granted="$granted $dd"
			fi
			if [ "$dd" = '*' ] || [ "$dd" = "$kdomain" ]; then
				case " $whos " in *" $w "*) ;; *) whos="$whos $w" ;; esac
			fi
		done
	done <"$rights"
	# (-a says it on each domain's line)
	if [ -z "$all" ] && [ -z "$inventory" ]; then
		for d in $kdoms; do
			case " $granted " in *" $d "*) continue ;; esac
			warn "rights: $d has a key, but no line of $rights grants it: no local user's mail is signed as $d"
			owner_of "$d"
			fix "add the user who sends its mail${who:+ ($who, from $how)}: ${who:-USER}: $d"
		done
	fi
	if [ -n "$kdomain" ] && [ -n "$whos" ]; then
		ok "rights: $rights lets${whos} sign as $kdomain"
	fi
	if [ -n "$forwarders" ]; then
		ok "rights: trusted forwarders:${forwarders}: what they forward is signed with the rights of whoever queued it first"
	fi
}
