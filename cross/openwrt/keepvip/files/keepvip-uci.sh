# /lib/functions/keepvip.sh: writes keepalived.conf from OpenWrt's keepalived
# UCI config (/etc/config/keepalived, as luci-app-keepalived edits it), so
# that keepvip runs an existing keepalived setup unchanged.
#
# Sourced by /etc/init.d/keepvip after /lib/functions.sh: it uses OpenWrt's
# own UCI reader (config_load, config_get, config_foreach), so quoting,
# lists and anonymous sections mean what uci says they mean.
#
#   keepvip_uci_convert >FILE     the config named `keepalived`
#
# Sections: globals, ipaddress, route, static_ipaddress, static_routes (or
# static_route), track_interface, vrrp_script, peer, vrrp_sync_group and
# vrrp_instance. The ipaddress, route, track_interface, vrrp_script and peer
# sections are named entries that the others refer to by their `name`.
# Notify commands call `/sbin/hotplug-call keepalived` with ACTION, TYPE and
# NAME, as OpenWrt's keepalived package does, so /etc/hotplug.d/keepalived/
# scripts and /etc/keepalived.user keep working. LVS and BFD sections
# (virtual_server, real_server, url, bfd_instance) are not VRRP: they are
# reported on stderr and left out.

KEEPVIP_HOTPLUG="/bin/busybox env -i"

# A value with blanks is quoted, as keepalived.conf needs.
_kv_value() {
	case "$1" in
	*[[:space:]]*) printf ' "%s"' "$1" ;;
	*) printf ' %s' "$1" ;;
	esac
}

# `_kv_options SECTION INDENT OPTION...`: each option that is set, as
# `option value`.
_kv_options() {
	local section="$1" indent="$2" option value
	shift 2
	for option in "$@"; do
		config_get value "$section" "$option"
		[ -n "$value" ] || continue
		printf '%s%s' "$indent" "$option"
		_kv_value "$value"
		printf '\n'
	done
}

# `_kv_flags SECTION INDENT OPTION...`: each boolean option that is true,
# as a bare keyword.
_kv_flags() {
	local section="$1" indent="$2" option value
	shift 2
	for option in "$@"; do
		config_get_bool value "$section" "$option" 0
		[ "$value" = 1 ] && printf '%s%s\n' "$indent" "$option"
	done
	return 0
}

# The section of TYPE whose `name` is NAME, in _kv_found (empty if none).
_kv_match() {
	local name
	config_get name "$1" name
	[ "$name" = "$_kv_wanted" ] && [ -z "$_kv_found" ] && _kv_found="$1"
	return 0
}
_kv_find() {
	_kv_found=
	_kv_wanted="$2"
	config_foreach _kv_match "$1"
}

# An `ipaddress` entry as a keepalived address line. A label (device:suffix,
# default suffix `vip`) is only given to IPv4 addresses: keepalived ignores
# it on IPv6 ones, with a warning.
_kv_address() {
	local section address device scope suffix line
	_kv_find ipaddress "$1"
	section="$_kv_found"
	if [ -z "$section" ]; then
		echo "keepvip: no ipaddress named '$1'" >&2
		return 0
	fi
	config_get address "$section" address
	[ -n "$address" ] || return 0
	config_get device "$section" device
	config_get scope "$section" scope
	config_get suffix "$section" label_suffix vip
	line="$address"
	if [ -n "$device" ]; then
		line="$line dev $device"
		case "$address" in
		*:*) ;;
		*) line="$line label $device:$suffix" ;;
		esac
	fi
	[ -n "$scope" ] && line="$line scope $scope"
	printf '%s%s\n' "$2" "$line"
}

# A `route` entry as a keepalived route line.
_kv_route() {
	local section address blackhole src gateway device table line
	_kv_find route "$1"
	section="$_kv_found"
	if [ -z "$section" ]; then
		echo "keepvip: no route named '$1'" >&2
		return 0
	fi
	config_get address "$section" address
	[ -n "$address" ] || return 0
	config_get_bool blackhole "$section" blackhole 0
	if [ "$blackhole" = 1 ]; then
		printf '%sblackhole %s\n' "$2" "$address"
		return 0
	fi
	config_get src "$section" src_addr
	config_get gateway "$section" gateway
	config_get device "$section" device
	config_get table "$section" table
	line="$address"
	[ -n "$src" ] && line="$line src $src"
	[ -n "$gateway" ] && line="$line via $gateway"
	[ -n "$device" ] && line="$line dev $device"
	[ -n "$table" ] && line="$line table $table"
	printf '%s%s\n' "$2" "$line"
}

# A `vrrp_script` reference in a track_script block: its weight and
# direction live in the vrrp_script section.
_kv_track_script() {
	local section weight direction line
	_kv_find vrrp_script "$1"
	section="$_kv_found"
	if [ -z "$section" ]; then
		echo "keepvip: no vrrp_script named '$1'" >&2
		return 0
	fi
	line="$1"
	config_get weight "$section" weight
	config_get direction "$section" direction
	[ -n "$weight" ] && line="$line weight $weight"
	case "$direction" in
	reverse) line="$line reverse" ;;
	noreverse | no_reverse) line="$line no_reverse" ;;
	esac
	printf '%s%s\n' "$2" "$line"
}

# A `track_interface` reference: the device is its `value`.
_kv_track_interface() {
	local section device weight
	_kv_find track_interface "$1"
	section="$_kv_found"
	if [ -z "$section" ]; then
		echo "keepvip: no track_interface named '$1'" >&2
		return 0
	fi
	config_get device "$section" value
	[ -n "$device" ] || return 0
	config_get weight "$section" weight
	printf '%s%s%s\n' "$2" "$device" "${weight:+ weight $weight}"
}

# A `peer` reference, or a literal address (the schema's example allows both).
_kv_peer() {
	local section address min_ttl max_ttl
	_kv_find peer "$1"
	section="$_kv_found"
	if [ -z "$section" ]; then
		case "$1" in
		*[.:]*) printf '%s%s\n' "$2" "$1" ;;
		*) echo "keepvip: no peer named '$1'" >&2 ;;
		esac
		return 0
	fi
	config_get address "$section" address
	[ -n "$address" ] || return 0
	config_get min_ttl "$section" min_ttl
	config_get max_ttl "$section" max_ttl
	printf '%s%s%s%s\n' "$2" "$address" "${min_ttl:+ min_ttl $min_ttl}" "${max_ttl:+ max_ttl $max_ttl}"
}

# `_kv_block SECTION OPTION KEYWORD INDENT FUNCTION`: a `KEYWORD { ... }`
# block of FUNCTION's lines for each item of the list OPTION, or nothing
# when the list is empty.
_kv_block() {
	local section="$1" option="$2" keyword="$3" indent="$4" function="$5" items
	config_get items "$section" "$option"
	[ -n "$items" ] || return 0
	printf '%s%s {\n' "$indent" "$keyword"
	config_list_foreach "$section" "$option" "$function" "$indent	"
	printf '%s}\n' "$indent"
}

# notify_* commands in OpenWrt's keepalived form: hotplug-call with a clean
# environment of ACTION, TYPE and NAME.
_kv_notify() {
	local type="$1" name="$2" event
	shift 2
	for event in "$@"; do
		printf '\t%s "%s ACTION=%s TYPE=%s NAME=%s /sbin/hotplug-call keepalived"\n' \
			"$event" "$KEEPVIP_HOTPLUG" "$(echo "$event" | tr 'a-z' 'A-Z')" "$type" "$name"
	done
}

_kv_globals() {
	local emails
	printf 'global_defs {\n'
	# keepalived's package runs scripts as root with script security on,
	# and announces start and stop through hotplug.
	printf '\tscript_user root\n\tenable_script_security\n'
	printf '\tstartup_script "%s ACTION=startup /sbin/hotplug-call keepalived"\n' "$KEEPVIP_HOTPLUG"
	printf '\tstartup_script_timeout 10\n'
	printf '\tshutdown_script "%s ACTION=shutdown /sbin/hotplug-call keepalived"\n' "$KEEPVIP_HOTPLUG"
	printf '\tshutdown_script_timeout 10\n'
	config_get emails "$1" notification_email
	if [ -n "$emails" ]; then
		printf '\tnotification_email {\n'
		for email in $emails; do
			printf '\t\t%s\n' "$email"
		done
		printf '\t}\n'
	fi
	_kv_options "$1" '	' notification_email_from smtp_server smtp_connect_timeout \
		router_id vrrp_mcast_group4 vrrp_mcast_group6 vrrp_startup_delay
	printf '}\n\n'
}

# static_ipaddress and static_routes: one block each, gathering every
# section of that type.
_kv_static_addresses() {
	config_list_foreach "$1" address _kv_address '	'
}
_kv_static_routes() {
	config_list_foreach "$1" route _kv_route '	'
}
_kv_static() {
	local lines
	lines="$(config_foreach "$2" "$3"; [ -n "$4" ] && config_foreach "$2" "$4")"
	[ -n "$lines" ] && printf '%s {\n%s\n}\n\n' "$1" "$lines"
	return 0
}

_kv_vrrp_script() {
	local name
	config_get name "$1" name
	[ -n "$name" ] || return 0
	printf 'vrrp_script %s {\n' "$name"
	_kv_options "$1" '	' script interval weight fall rise timeout
	printf '}\n\n'
}

_kv_sync_group() {
	local name
	config_get name "$1" name
	[ -n "$name" ] || return 0
	printf 'vrrp_sync_group %s {\n' "$name"
	printf '\tgroup {\n'
	config_list_foreach "$1" group _kv_member
	printf '\t}\n'
	_kv_block "$1" track_script track_script '	' _kv_track_script
	_kv_flags "$1" '	' smtp_alert global_tracking
	_kv_notify GROUP "$name" notify_backup notify_master notify_fault notify
	printf '}\n\n'
}
_kv_member() {
	printf '\t\t%s\n' "$1"
}

_kv_instance() {
	local name auth_type auth_pass
	config_get name "$1" name
	[ -n "$name" ] || return 0
	printf 'vrrp_instance %s {\n' "$name"
	config_get auth_type "$1" auth_type
	config_get auth_pass "$1" auth_pass
	if [ -n "$auth_type" ] && [ -n "$auth_pass" ]; then
		printf '\tauthentication {\n\t\tauth_type %s\n\t\tauth_pass %s\n\t}\n' \
			"$auth_type" "$auth_pass"
	fi
	_kv_options "$1" '	' state interface mcast_src_ip unicast_src_ip \
		virtual_router_id version priority advert_int preempt_delay debug \
		lvs_sync_daemon_interface garp_master_delay garp_master_refresh \
		garp_master_repeat garp_master_refresh_repeat
	_kv_flags "$1" '	' vmac_xmit_base native_ipv6 accept dont_track_primary \
		smtp_alert nopreempt use_vmac no_accept
	_kv_notify INSTANCE "$name" notify_backup notify_master notify_fault notify_stop
	_kv_block "$1" virtual_ipaddress virtual_ipaddress '	' _kv_address
	_kv_block "$1" virtual_ipaddress_excluded virtual_ipaddress_excluded '	' _kv_address
	_kv_block "$1" virtual_routes virtual_routes '	' _kv_route
	_kv_block "$1" track_script track_script '	' _kv_track_script
	_kv_block "$1" track_interface track_interface '	' _kv_track_interface
	_kv_block "$1" unicast_peer unicast_peer '	' _kv_peer
	printf '}\n\n'
}

_kv_not_vrrp() {
	echo "keepvip: /etc/config/keepalived: '$2' sections are not VRRP; keepvip leaves them out" >&2
}

keepvip_uci_convert() {
	local type
	config_load keepalived || return 1
	printf '! Written by /etc/init.d/keepvip from /etc/config/keepalived:\n'
	printf '! edit that (or LuCI), not this file.\n\n'
	config_foreach _kv_globals globals
	_kv_static static_ipaddress _kv_static_addresses static_ipaddress
	_kv_static static_routes _kv_static_routes static_routes static_route
	config_foreach _kv_vrrp_script vrrp_script
	config_foreach _kv_sync_group vrrp_sync_group
	config_foreach _kv_instance vrrp_instance
	for type in virtual_server real_server url bfd_instance; do
		config_foreach _kv_not_vrrp "$type" "$type"
	done
	return 0
}
