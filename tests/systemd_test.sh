#!/usr/bin/env bash
# The shipped systemd unit under a real systemd as PID 1 (`make systemd-test`,
# root): a minimal Debian root made with debootstrap, booted with
# systemd-nspawn inside a network namespace of our own, keepvip installed
# into it with `make install`. Twice: with the unit as shipped, then with
# the opt-in hardened drop-in. Each time:
#
#  - `systemctl start` (Type=exec), the instance becomes master, which it
#    can only do once a check script running as `script_user nobody`
#    passes (weight 0: FAULT while it fails);
#  - notify_master, as root, restarts another service with systemctl and
#    appends to a state file (default unit: /etc/keepvip; hardened:
#    /var/lib/keepvip, its StateDirectory);
#  - a hung check as nobody is terminated: SIGUSR2's statistics show a
#    timeout and no kill error (CAP_KILL);
#  - `keepvip status` with no option answers (/run/keepvip/keepvip.sock);
#  - the journal has keepvip's lines once each, with their levels;
#  - `systemctl reload` with a good config (the new priority shows in
#    status), then with a broken one (reload fails, the daemon runs on);
#  - the binary replaced (as a package upgrade does): keepvip-upgrade.path
#    runs `keepvip restart`, the same pid goes on as master;
#  - `systemctl stop`: the VIP goes, and notify_stop, which outlives the
#    daemon by 3 s, still writes its line (KillMode=process);
#  - a unit whose binary is missing fails `systemctl start` (Type=exec).
#
#   tests/systemd_test.sh STATIC_BIN
#
# The root is kept in KEEPVIP_SYSTEMD_ROOT (default
# /var/tmp/keepvip-systemd-root) and reused; KEEPVIP_DEBIAN_SUITE and
# KEEPVIP_DEBIAN_MIRROR choose what debootstrap fetches.
set -uo pipefail
cd "$(dirname "$0")/.."

bin=${1:?usage: $0 STATIC_BIN}
root=${KEEPVIP_SYSTEMD_ROOT:-/var/tmp/keepvip-systemd-root}
suite=${KEEPVIP_DEBIAN_SUITE:-bookworm}
mirror=${KEEPVIP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ns=kvsd$$
vip=192.0.2.100

failures=0
ok() { echo "ok:   $*"; }
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
die() {
	echo "FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "needs root (namespaces, debootstrap, systemd-nspawn)"
for c in debootstrap systemd-nspawn nsenter; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found: run   bash tests/preflight.sh systemd-test"
done
[ -x "$bin" ] || die "$bin: not built (make static)"
started=$(date +%s)

work=$(mktemp -d /tmp/keepvip-systemd.XXXXXX)
nspawn_pid=
cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		# nspawn turns SIGTERM into a clean shutdown of the container.
		kill -TERM "$nspawn_pid"
		for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$nspawn_pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "== the root: minimal Debian $suite with systemd ($root)"
if [ ! -e "$root/.keepvip-complete" ]; then
	rm -rf "$root"
	t0=$(date +%s)
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2 \
		"$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -20 "$work/debootstrap.log" >&2
		die "debootstrap $suite from $mirror"
	}
	touch "$root/.keepvip-complete"
	ok "debootstrap in $(($(date +%s) - t0)) s"
else
	ok "reusing $root"
fi

# Each run starts from what `make install` lays down.
rm -rf "$root/etc/keepvip" "$root/var/lib/keepvip" "$root/etc/systemd/system/keepvip.service.d" \
	"$root/etc/systemd/system/keepvip-broken.service"
make -s install DESTDIR="$root" PREFIX=/usr INSTALL_BIN="$bin" >"$work/install.log" 2>&1 || {
	cat "$work/install.log" >&2
	die "make install into the root"
}
install -m 0755 /dev/stdin "$root/usr/local/bin/kv-check-nobody" <<'EOF'
#!/bin/sh
# Passes only when run as nobody.
[ "$(id -u)" = 65534 ]
EOF
install -m 0755 /dev/stdin "$root/usr/local/bin/kv-notify" <<'EOF'
#!/bin/sh
# What notify scripts do: restart a service, write a state file.
systemctl restart kv-dummy.service && echo "$2 uid=$(id -u) restarted" >>"$1/notify.log"
EOF
install -m 0755 /dev/stdin "$root/usr/local/bin/kv-notify-stop" <<'EOF'
#!/bin/sh
# Outlives keepvip (its grace for notify commands is 1 s).
sleep 3
echo "stop uid=$(id -u)" >>"$1/notify.log"
EOF
cat >"$root/etc/systemd/system/kv-dummy.service" <<'EOF'
[Service]
ExecStart=/bin/sleep infinity
EOF
# Same unit, a binary that does not exist: Type=exec must fail the start.
# Its own runtime directory and no restarts, or its retries would remove
# /run/keepvip under the real one.
broken_unit() {
	sed -e 's#^ExecStart=/usr/sbin/keepvip #ExecStart=/usr/sbin/keepvip-missing #' \
		-e 's#^RuntimeDirectory=keepvip#RuntimeDirectory=keepvip-broken#' -e 's#^Restart=.*#Restart=no#' \
		"$root/usr/lib/systemd/system/keepvip.service" >"$root/etc/systemd/system/keepvip-broken.service"
}
broken_unit

config() { # STATE_DIR PRIORITY
	cat <<EOF
global_defs {
    script_user nobody
}
vrrp_script chk_nobody {
    script "/usr/local/bin/kv-check-nobody"
    interval 1
    weight 0
}
vrrp_script chk_hangs {
    script "/bin/sleep 4"
    interval 1
    timeout 1
    weight -10
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 63
    priority $2
    version 3
    advert_int 0.5
    track_script {
        chk_nobody
        chk_hangs
    }
    notify_master "/usr/local/bin/kv-notify $1 master" root
    notify_stop "/usr/local/bin/kv-notify-stop $1" root
    virtual_ipaddress {
        $vip/24
    }
}
EOF
}

echo "== boot it with systemd as PID 1 (systemd-nspawn, network namespace $ns)"
ip netns add "$ns" &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" link add eth0 type veth peer name eth0p &&
	ip -n "$ns" link set eth0p up &&
	ip -n "$ns" link set eth0 up &&
	ip -n "$ns" addr add 192.0.2.1/24 dev eth0 || die "network namespace"
# No machined or D-Bus on a host without systemd: --register=no --keep-unit.
# The container's network namespace is ours: let it change addresses.
systemd-nspawn -q -D "$root" --boot --register=no --keep-unit -M "$ns" --capability=CAP_NET_ADMIN \
	--network-namespace-path="/run/netns/$ns" </dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!
# The container's PID 1: nspawn's child in another pid namespace.
leader=
for _ in $(seq 100); do
	for pid in $(ps -o pid= --ppid "$nspawn_pid"); do
		if [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]; then
			leader=$pid
		fi
	done
	[ -n "$leader" ] && break
	sleep 0.1
done
[ -n "$leader" ] || die "nspawn started no container: $(cat "$work/console.log")"
inside() { nsenter -t "$leader" -m -u -i -n -p -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
state=
for _ in $(seq 600); do
	state=$(inside systemctl is-system-running 2>&1)
	case $state in running | degraded) break ;; esac
	sleep 0.1
done
case $state in
running | degraded) ok "systemd $(inside systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p') is PID 1 in the container: $state" ;;
*) die "the container did not boot within 60 s ($state): $(tail -20 "$work/console.log")" ;;
esac

has_vip() { ip -n "$ns" -4 addr show dev eth0 | grep -q "$vip/24"; }
wait_for() { # TENTHS COMMAND...
	local i=0
	while [ $i -lt "$1" ]; do
		"${@:2}" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
notify_log_has() { grep -q "$2" "$root$1/notify.log" 2>/dev/null; }
status_has() { inside keepvip status 2>/dev/null | grep -q "$1"; }
stats() {
	local file=/proc/$leader/root/run/keepvip/keepvip.stats
	rm -f "$file"
	inside sh -c 'kill -USR2 "$(systemctl show -p MainPID --value keepvip)"'
	wait_for 20 test -s "$file" && cat "$file"
}
counter() { sed -n "s/^$1 //p"; }

scenario() { # NAME STATE_DIR
	local name=$1 dir=$2 t0
	echo "== $name"
	t0=$(date +%s)
	mkdir -p "$root/etc/keepvip"
	config "$dir" 150 >"$root/etc/keepvip/keepvip.conf"
	inside systemctl daemon-reload
	if inside systemctl start keepvip && [ "$(inside systemctl is-active keepvip)" = active ]; then
		ok "$name: systemctl start"
	else
		fail "$name: systemctl start: $(inside systemctl status keepvip 2>&1 | tail -15)"
		return
	fi
	if wait_for 150 has_vip; then
		ok "$name: master with the VIP: the check as script_user nobody passes"
	else
		fail "$name: no VIP after 15 s: $(inside journalctl -u keepvip -o cat | tail -15)"
	fi
	if wait_for 100 notify_log_has "$dir" "master uid=0 restarted"; then
		ok "$name: notify_master as root restarted a service and wrote $dir/notify.log"
	else
		fail "$name: notify_master: no line in $dir/notify.log: $(inside journalctl -u keepvip -o cat | tail -10)"
	fi
	if status_has "VI_1.*MASTER"; then
		ok "$name: keepvip status (no option): $(inside keepvip status | grep VI_1 | tr -s ' ')"
	else
		fail "$name: keepvip status: $(inside keepvip status 2>&1); $(inside ls -la /run/keepvip 2>&1);" \
			"$(inside journalctl -u keepvip -o cat | grep -v chk_hangs | tail -20)"
	fi
	local text
	wait_for 30 eval 'text=$(stats); [ "$(counter script_timeouts <<<"$text")" -ge 1 ] 2>/dev/null'
	if [ "$(counter script_timeouts <<<"$text")" -ge 1 ] 2>/dev/null && [ "$(counter kill_errors <<<"$text")" = 0 ]; then
		ok "$name: a hung check of nobody's timed out and was signalled (kill_errors 0)"
	else
		fail "$name: hung check: $(grep -E 'script_timeouts|kill_errors' <<<"$text" | tr '\n' ' ')"
	fi
	# This start's lines only, one JSON entry a line.
	local journal
	journal=$(inside journalctl -o json \
		"_SYSTEMD_INVOCATION_ID=$(inside systemctl show -p InvocationID --value keepvip)")
	if [ "$(grep -c '"MESSAGE":"(VI_1) Entering MASTER STATE"' <<<"$journal")" = 1 ] &&
		grep '"MESSAGE":"(VI_1) Entering MASTER STATE"' <<<"$journal" | grep -q '"PRIORITY":"6"' &&
		grep '"MESSAGE":"VRRP_Script(chk_hangs) timed out' <<<"$journal" | grep -q '"PRIORITY":"4"' &&
		! grep -q '"MESSAGE":"<[0-9]>' <<<"$journal"; then
		ok "$name: journal: keepvip's lines once each, levels from their <N> prefix (info 6, warning 4)"
	else
		fail "$name: journal: $(inside journalctl -u keepvip -o cat | tail -10)"
	fi
	config "$dir" 160 >"$root/etc/keepvip/keepvip.conf"
	if inside systemctl reload keepvip && wait_for 50 status_has "160"; then
		ok "$name: systemctl reload with a good config: priority 160 running"
	else
		fail "$name: reload (good config): $(inside keepvip status 2>&1)"
	fi
	# An unknown keyword: -t exits 5, as keepalived's, and the daemon runs
	# the config: the reload goes through.
	config "$dir" 170 | sed 's/^global_defs {/global_defs {\n    keepvip_test_unknown 1/' \
		>"$root/etc/keepvip/keepvip.conf"
	if inside systemctl reload keepvip && wait_for 50 status_has "170"; then
		ok "$name: systemctl reload with a warning keepalived counts as an error (-t exits 5): priority 170 running"
	else
		fail "$name: reload (-t 5): $(inside keepvip -t -f /etc/keepvip/keepvip.conf 2>&1 | tail -3)"
	fi
	config "$dir" 160 | sed 's/virtual_router_id 63/virtual_router_id 256/' >"$root/etc/keepvip/keepvip.conf"
	if inside systemctl reload keepvip 2>/dev/null; then
		fail "$name: systemctl reload accepted a broken config"
	elif [ "$(inside systemctl is-active keepvip)" = active ] && status_has "170" && has_vip; then
		ok "$name: systemctl reload with a broken config fails; the daemon runs on, master"
	else
		fail "$name: after a broken reload: $(inside systemctl status keepvip 2>&1 | tail -10)"
	fi
	config "$dir" 160 >"$root/etc/keepvip/keepvip.conf"
	# An upgrade: the binary replaced as a package manager replaces it (a
	# new file renamed over it); keepvip-upgrade.path runs `keepvip
	# restart`: the same MainPID goes on as master, the VIP never left.
	local main_pid resumed
	main_pid=$(inside systemctl show -p MainPID --value keepvip)
	resumed=$(inside journalctl -u keepvip -o cat | grep -c "resumed in MASTER after restart")
	cp -p "$root/usr/sbin/keepvip" "$root/usr/sbin/.keepvip.new" && mv -f "$root/usr/sbin/.keepvip.new" "$root/usr/sbin/keepvip"
	if wait_for 100 eval '[ "$(inside journalctl -u keepvip -o cat | grep -c "resumed in MASTER after restart")" -gt "$resumed" ]' &&
		[ "$(inside systemctl show -p MainPID --value keepvip)" = "$main_pid" ] && has_vip &&
		[ "$(inside systemctl is-active keepvip)" = active ] && status_has "VI_1.*MASTER"; then
		ok "$name: binary replaced: keepvip-upgrade.path restarted it without a failover (pid $main_pid, master)"
	else
		fail "$name: upgrade: $(inside systemctl status keepvip-upgrade.path keepvip-upgrade.service 2>&1 | tail -15);" \
			"$(inside journalctl -u keepvip -o cat | grep -v chk_hangs | tail -15)"
	fi
	if inside systemctl stop keepvip && ! has_vip; then
		ok "$name: systemctl stop: VIP removed"
	else
		fail "$name: systemctl stop"
	fi
	if wait_for 100 notify_log_has "$dir" "stop uid=0"; then
		ok "$name: notify_stop outlived the daemon by 3 s and wrote its line (KillMode=process)"
	else
		fail "$name: notify_stop was killed or never ran"
	fi
	if inside systemctl start keepvip-broken 2>/dev/null; then
		fail "$name: a unit with a missing binary started (Type=exec should refuse)"
	else
		ok "$name: a missing binary fails systemctl start (Type=exec)"
	fi
	inside systemctl reset-failed keepvip-broken
	echo "   ($name: $(($(date +%s) - t0)) s)"
}

mkdir -p "$root/etc/keepvip"
scenario "unit as shipped" /etc/keepvip
install -D -m 0644 "$root/usr/share/doc/keepvip/keepvip-hardened.conf" \
	"$root/etc/systemd/system/keepvip.service.d/hardened.conf"
scenario "with the hardened drop-in" /var/lib/keepvip
if [ "$(inside systemctl show keepvip -p CapabilityBoundingSet --value)" != "" ] &&
	inside systemctl show keepvip -p ProtectSystem --value | grep -q strict; then
	ok "the hardened drop-in was in force (ProtectSystem=strict, CapabilityBoundingSet)"
else
	fail "the hardened drop-in was not loaded"
fi

echo
echo "systemd test: $(($(date +%s) - started)) s"
if [ $failures -ne 0 ]; then
	echo "systemd test: $failures FAILED" >&2
	exit 1
fi
echo "systemd test: all passed"
