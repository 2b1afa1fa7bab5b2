# Test shim of OpenWrt's /lib/functions.sh: the UCI part that init scripts
# use (config_load, config_get, config_get_bool, config_foreach,
# config_list_foreach, config_set) and a few helpers, written for keepvip's
# tests from OpenWrt's documented behaviour. It reads the files in
# ${UCI_CONFIG_DIR:-/etc/config} itself instead of running `uci export`.
# Variables follow OpenWrt's layout: CONFIG_<section>_<option>, a list's
# items space-joined there and also as _ITEMn with _LENGTH.

CONFIG_SECTIONS=
CONFIG_APPEND=

append() {
	local var="$1" value="$2" sep="${3:- }"
	eval "$var=\${$var:+\${$var}\${value:+\$sep}}\$value"
}

list_contains() {
	local var="$1" word="$2" item
	eval "set -- \$$var"
	for item in "$@"; do [ "$item" = "$word" ] && return 0; done
	return 1
}

include() {
	local file
	for file in "$1"/*.sh; do
		[ -f "$file" ] && . "$file"
	done
}

_shim_section=
_shim_anonymous=0
_shim_config() {
	local type="$1" name="$2"
	if [ -z "$name" ]; then
		_shim_anonymous=$((_shim_anonymous + 1))
		name="cfg$_shim_anonymous"
	fi
	_shim_section="$name"
	list_contains CONFIG_SECTIONS "$name" || append CONFIG_SECTIONS "$name"
	eval "CONFIG_${name}_TYPE=\$type"
	eval "CONFIG_${name}_LENGTH=0"
}

_shim_option() {
	eval "CONFIG_${_shim_section}_$1=\$2"
}

_shim_list() {
	local n
	list_contains _shim_lists "CONFIG_${_shim_section}_$1" || append _shim_lists "CONFIG_${_shim_section}_$1"
	eval "n=\$((\${CONFIG_${_shim_section}_$1_LENGTH:-0} + 1))"
	eval "CONFIG_${_shim_section}_$1_LENGTH=\$n"
	eval "CONFIG_${_shim_section}_$1_ITEM$n=\$2"
	eval "append CONFIG_${_shim_section}_$1 \"\$2\""
}

# One line of a UCI file to one shim call, values single-quoted for eval.
_shim_parse() {
	awk '
	function quote(s) { gsub(/\047/, "\047\"\047\"\047", s); return "\047" s "\047" }
	{
		line = $0; n = 0; word = ""; have = 0; words[2] = ""; words[3] = ""
		while (length(line) > 0) {
			c = substr(line, 1, 1)
			if (c ~ /[ \t]/) {
				if (have) { words[++n] = word; word = ""; have = 0 }
				line = substr(line, 2); continue
			}
			if (c == "#" && !have) break
			if (c == "\047" || c == "\"") {
				end = index(substr(line, 2), c)
				if (end == 0) { print "echo \"uci: unterminated quote on line " NR "\" >&2; return 1"; exit }
				word = word substr(line, 2, end - 1); have = 1
				line = substr(line, end + 2); continue
			}
			word = word c; have = 1; line = substr(line, 2)
		}
		if (have) words[++n] = word
		if (n == 0) next
		if (words[1] == "config") print "_shim_config " quote(words[2]) " " quote(words[3])
		else if (words[1] == "option") print "_shim_option " words[2] " " quote(words[3])
		else if (words[1] == "list") print "_shim_list " words[2] " " quote(words[3])
		else if (words[1] == "package") next
		else print "echo \"uci: cannot parse line " NR "\" >&2"
	}' "$1"
}

# As OpenWrt's, a new load forgets the lists of the last one (they would
# grow by appending otherwise).
_shim_lists=
config_load() {
	local file="${UCI_CONFIG_DIR:-/etc/config}/$1" list
	for list in $_shim_lists; do
		eval "$list= ${list}_LENGTH=0"
	done
	_shim_lists=
	CONFIG_SECTIONS=
	_shim_anonymous=0
	[ -f "$file" ] || return 1
	eval "$(_shim_parse "$file")"
}

config_get() {
	case "$3" in
	"") eval "echo \"\${CONFIG_${1}_${2}:-\${4}}\"" ;;
	*) eval "$1=\"\${CONFIG_${2}_${3}:-\${4}}\"" ;;
	esac
}

config_set() {
	eval "CONFIG_${1}_${2}=\$3"
}

config_get_bool() {
	local _value
	config_get _value "$2" "$3" "$4"
	case "$_value" in
	1 | on | true | yes | enabled) _value=1 ;;
	0 | off | false | no | disabled) _value=0 ;;
	*) _value="$4" ;;
	esac
	eval "$1=\$_value"
}

config_foreach() {
	local function="$1" type="$2" section section_type
	shift 2
	for section in $CONFIG_SECTIONS; do
		eval "section_type=\$CONFIG_${section}_TYPE"
		[ -z "$type" ] || [ "$type" = "$section_type" ] || continue
		"$function" "$section" "$@"
	done
}

config_list_foreach() {
	local section="$1" option="$2" function="$3" length n item
	shift 3
	eval "length=\${CONFIG_${section}_${option}_LENGTH:-0}"
	n=1
	while [ "$n" -le "$length" ]; do
		eval "item=\$CONFIG_${section}_${option}_ITEM$n"
		"$function" "$item" "$@"
		n=$((n + 1))
	done
}

# What a package's maintainer scripts call, as OpenWrt's base-files define
# them: prerm runs the package's prerm-pkg, then for each of its init
# scripts `disable` (not on an upgrade: PKG_UPGRADE=1) and `stop`; postinst
# runs the package's postinst-pkg (opkg: from its info directory; apk
# appends it to its post-install script instead), then `enable` (not on an
# upgrade) and `start`. The file list is opkg's, or apk's where there is one.
_shim_package_list() {
	if [ -f "/lib/apk/packages/$1.list" ]; then
		echo "/lib/apk/packages/$1.list"
	else
		echo "/usr/lib/opkg/info/$1.list"
	fi
}

default_prerm() {
	local package="${pkgname:-$(basename "${1%.*}")}" ret=0 script
	if [ -f "/usr/lib/opkg/info/$package.prerm-pkg" ]; then
		(. "/usr/lib/opkg/info/$package.prerm-pkg")
		ret=$?
	fi
	for script in $(grep -s "^/etc/init.d/" "$(_shim_package_list "$package")"); do
		[ "$PKG_UPGRADE" = 1 ] || "$script" disable
		"$script" stop
	done
	return $ret
}

default_postinst() {
	local package="${pkgname:-$(basename "${1%.*}")}" ret=0 script
	if [ -f "/usr/lib/opkg/info/$package.postinst-pkg" ]; then
		(. "/usr/lib/opkg/info/$package.postinst-pkg")
		ret=$?
	fi
	for script in $(grep -s "^/etc/init.d/" "$(_shim_package_list "$package")"); do
		[ "$PKG_UPGRADE" = 1 ] || "$script" enable
		"$script" start
	done
	return $ret
}

add_group_and_user() {
	return 0
}
