# Test shim of OpenWrt's /lib/functions/procd.sh: every call is recorded in
# /var/log/procd.log, and what procd would do with a service's instance is
# done here: a new or changed command line (re)starts the process, the same
# one leaves it alone, a service without an instance is stopped, signals go
# to the recorded pid. No respawn. Written for keepvip's tests.

_procd_dir=/var/run/procd-shim
_procd_log=/var/log/procd.log

_procd_record() {
	mkdir -p "${_procd_log%/*}"
	echo "$*" >>"$_procd_log"
}

procd_open_service() {
	_procd_service="$1"
	_procd_instance=0
	mkdir -p "$_procd_dir"
	: >"$_procd_dir/$1.new"
	_procd_record "open_service $1"
}

procd_open_instance() {
	_procd_instance=1
	_procd_record "open_instance"
}

procd_set_param() {
	local key="$1"
	shift
	_procd_record "set_param $key $*"
	# Only the command decides a restart in this shim; the rest is recorded.
	[ "$key" = command ] && echo "$*" >"$_procd_dir/$_procd_service.new"
	return 0
}

procd_append_param() {
	local key="$1"
	shift
	_procd_record "append_param $key $*"
	if [ "$key" = command ]; then
		echo "$(cat "$_procd_dir/$_procd_service.new") $*" >"$_procd_dir/$_procd_service.new"
	fi
	return 0
}

procd_close_instance() {
	_procd_record "close_instance"
}

procd_add_reload_trigger() {
	_procd_record "add_reload_trigger $*"
}

_procd_pid() {
	cat "$_procd_dir/$1.pid" 2>/dev/null
}

procd_running() {
	local pid
	pid=$(_procd_pid "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

_procd_stop() {
	local pid tries=0
	pid=$(_procd_pid "$1")
	rm -f "$_procd_dir/$1.pid" "$_procd_dir/$1.command"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	# procd's term_timeout: 5 s, then SIGKILL.
	while kill -0 "$pid" 2>/dev/null && [ $tries -lt 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	_procd_record "stopped $1 pid $pid"
}

procd_close_service() {
	local new old pid
	new=$(cat "$_procd_dir/$_procd_service.new")
	old=$(cat "$_procd_dir/$_procd_service.command" 2>/dev/null)
	_procd_record "close_service $_procd_service"
	if [ -z "$new" ] || [ "$_procd_instance" = 0 ]; then
		_procd_stop "$_procd_service"
		return 0
	fi
	if [ "$new" = "$old" ] && procd_running "$_procd_service"; then
		_procd_record "unchanged $_procd_service"
		return 0
	fi
	_procd_stop "$_procd_service"
	# shellcheck disable=SC2086 # the words of the command line
	$new </dev/null >>/var/log/$_procd_service.out 2>&1 &
	pid=$!
	echo "$pid" >"$_procd_dir/$_procd_service.pid"
	echo "$new" >"$_procd_dir/$_procd_service.command"
	_procd_record "started $_procd_service pid $pid: $new"
}

procd_send_signal() {
	local service="$1" signal="${3:-HUP}" pid
	pid=$(_procd_pid "$service")
	_procd_record "send_signal $service $signal pid $pid"
	[ -n "$pid" ] && kill "-$signal" "$pid"
}

procd_kill() {
	_procd_record "kill $1"
	_procd_stop "$1"
}
