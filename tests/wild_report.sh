#!/bin/sh
# wild_report.sh KEEPVIP CORPUS_DIR
#
# `keepvip -t` over every *.conf in CORPUS_DIR, one line per file:
#   loads      - keepvip runs it (keywords it does not implement are only
#                the warn-only kind: alerting, LVS, tuning)
#   loads-5    - keepvip runs it, but warns of something keepalived 2.2.7
#                counts as a config error: -t exits 5, as keepalived's does
#   needs-file - refused only because a script or notify program it names
#                is not on this machine (the config itself is understood)
#   refused    - with keepvip's first error
# then the totals. Each file is checked where the interfaces it names
# exist (tests/with_interfaces.sh), since -t refuses a missing interface
# as keepalived does. Used by `make wild-report CORPUS=DIR`.
#
# With KEEPALIVED=/usr/sbin/keepalived, each line also gets keepalived -t's
# exit status on the file (in the same kind of namespace), and the totals
# how often the two agree on passing (0) or not.
set -u
bin=$1
corpus=$(cd "$2" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
loads=0 loads5=0 needs=0 refused=0 agree=0 differ=0
keepalived=${KEEPALIVED:-}

# The first word of each line of every `track_interface { ... }` block
# (comments stripped; the brace on the keyword's line or the next; the
# one-line form, which keepalived refuses, names nothing).
tracked_interfaces() {
	awk '
	{ sub(/[!#].*/, "") }
	inside && /}/ { inside = 0; next }
	inside { if (NF) print $1; next }
	opening && NF { opening = 0; if ($1 == "{") { inside = 1; next } }
	/(^|[[:space:]])track_interface([[:space:]{]|$)/ {
		# Alone on its line: the block may open on the next.
		if ($0 !~ /{/) { opening = (NF == 1); next }
		rest = $0
		sub(/.*{/, "", rest)
		if (rest ~ /}/) sub(/}.*/, "", rest); else inside = 1
		n = split(rest, words)
		if (n) print words[1]
	}
	' "$1"
}
for conf in "$corpus"/*.conf; do
	[ -e "$conf" ] || continue
	# Interface names the config uses (instance, dev of addresses and
	# routes, iif/oif of rules, track_interface blocks), at most 16.
	ifs=$({
		grep -oE '(^|[[:space:]])(interface|dev|default_interface|iif|oif)[[:space:]]+[A-Za-z0-9_.@-]+' "$conf" |
			awk '{print $2}'
		tracked_interfaces "$conf"
	} | sort -u | head -16 | tr '\n' ',' | sed 's/,$//')
	[ -n "$ifs" ] || ifs=eth0
	out=$(cd /tmp && timeout 10 sh "$here/with_interfaces.sh" "$ifs" "$bin" -t -f "$conf" 2>&1)
	rc=$?
	errors=$(printf '%s\n' "$out" | grep 'ERROR' | grep -v 'configuration not loaded')
	theirs=
	if [ -n "$keepalived" ]; then
		(cd /tmp && timeout 10 sh "$here/with_interfaces.sh" "$ifs" "$keepalived" -t -f "$conf" \
			>/dev/null 2>&1)
		krc=$?
		theirs=" (keepalived -t: $krc)"
		if { [ "$rc" -eq 0 ] && [ "$krc" -eq 0 ]; } || { [ "$rc" -ne 0 ] && [ "$krc" -ne 0 ]; }; then
			agree=$((agree + 1))
		else
			differ=$((differ + 1))
		fi
	fi
	if [ "$rc" -eq 0 ]; then
		loads=$((loads + 1))
		printf 'loads      %s%s\n' "$(basename "$conf")" "$theirs"
	elif [ "$rc" -eq 5 ] && [ -z "$errors" ]; then
		loads5=$((loads5 + 1))
		printf 'loads-5    %s%s\n' "$(basename "$conf")" "$theirs"
	elif [ -n "$errors" ] && ! printf '%s\n' "$errors" |
		grep -qv 'not found on PATH\|does not exist\|cannot be accessed\|No such file'; then
		needs=$((needs + 1))
		printf 'needs-file %s%s\n' "$(basename "$conf")" "$theirs"
	else
		refused=$((refused + 1))
		first=$(printf '%s\n' "$errors" | head -1 | sed 's/^.*ERROR: //')
		printf 'refused    %s: %s%s\n' "$(basename "$conf")" "${first:-exit $rc}" "$theirs"
	fi
done
echo "$loads loads, $loads5 load with warnings keepalived counts as config errors (-t exits 5)," \
	"$needs need only a program absent here, $refused refused"
if [ -n "$keepalived" ]; then
	echo "keepalived -t agrees on pass/fail for $agree, differs for $differ"
fi
