#!/usr/bin/env bash
# Checks on the binaries users ship (`make check-static` builds them first):
#
#   tests/static_checks.sh X86_64_STATIC_BIN AARCH64_STATIC_BIN
#
#  1. both are statically linked (file, and no PT_INTERP/NEEDED), of the
#     right architecture; the x86_64 one is within the size ceiling
#     (KEEPVIP_SIZE_BUDGET_KIB, default 1280: a regression guard; the aim of
#     600 KiB is reported, not enforced, see README "Binary size");
#  2. --version and -t on the example configs (and a broken one, which
#     must be refused) natively and, for aarch64, under qemu-aarch64-static;
#     both architectures must describe each config identically;
#  3. the unit tests, built for both musl targets with the release profile
#     (LTO, panic=abort, opt-level s), natively and under qemu;
#  4. init files: procd and sysvinit scripts pass `sh -n` and busybox
#     `ash -n`; the systemd unit, alone and with its hardened drop-in,
#     passes `systemd-analyze verify`;
#  5. `make install DESTDIR=...` lays out the files, and the installed
#     binary accepts the installed config; a second install keeps it;
#  6. (root) the sysvinit script starts, reloads, restarts (no failover)
#     and stops the static binary in a namespace; a traced run (strace) uses no system call
#     outside the unit's SystemCallFilter and no socket family outside its
#     RestrictAddressFamilies (of the hardened drop-in); one seed failover
#     test runs with the binary.
#
# Every check fails loudly. KEEPVIP_SKIP_NETNS=1 skips part 6 (prints
# SKIPPED); KEEPVIP_NO_SYSTEMD_ANALYZE=1 accepts a machine without
# systemd-analyze (prints NOT CHECKED). Nothing is skipped silently.
set -uo pipefail
cd "$(dirname "$0")/.."

x86=${1:?usage: $0 X86_64_STATIC_BIN AARCH64_STATIC_BIN}
arm=${2:?usage: $0 X86_64_STATIC_BIN AARCH64_STATIC_BIN}
budget_kib=${KEEPVIP_SIZE_BUDGET_KIB:-1280}
aim_kib=600
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
qemu=${QEMU_AARCH64:-qemu-aarch64-static}

failures=0
ok() { echo "ok:   $*"; }
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
need() {
	command -v "$1" >/dev/null 2>&1 || {
		echo "FAIL: $1 not found ($2)" >&2
		exit 1
	}
}
need file "apt-get install file"
need "$qemu" "apt-get install qemu-user-static"
need busybox "apt-get install busybox"

work=$(mktemp -d /tmp/keepvip-static.XXXXXX)
ns=
daemon_pid=
cleanup() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid" 2>/dev/null
	fi
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "== 1. static linking, architecture, size"
check_static() { # BIN ARCH-WORDS
	local bin=$1 arch=$2 desc
	if [ ! -x "$bin" ]; then
		fail "$bin: not built"
		return
	fi
	desc=$(file -b "$bin")
	if [[ $desc != *"$arch"* ]]; then
		fail "$bin: not $arch: $desc"
	elif [[ $desc == *"dynamically linked"* || $desc == *interpreter* ]]; then
		fail "$bin: dynamically linked: $desc"
	elif [[ $desc != *"statically linked"* && $desc != *"static-pie linked"* ]]; then
		fail "$bin: file does not say statically linked: $desc"
	else
		ok "$bin: $desc"
	fi
	if command -v readelf >/dev/null 2>&1; then
		if readelf -lW "$bin" | grep -q INTERP || readelf -dW "$bin" | grep -q NEEDED; then
			fail "$bin: has a program interpreter or NEEDED libraries"
		else
			ok "$bin: no INTERP, no NEEDED (readelf)"
		fi
	fi
}
check_static "$x86" "x86-64"
check_static "$arm" "ARM aarch64"
for bin in "$x86" "$arm"; do
	[ -f "$bin" ] && sh tests/print_size.sh "$bin"
done
if [ -f "$x86" ]; then
	kib=$((($(wc -c <"$x86") + 1023) / 1024))
	if [ "$kib" -gt "$budget_kib" ]; then
		fail "$x86: $kib KiB, over the budget of $budget_kib KiB (KEEPVIP_SIZE_BUDGET_KIB)"
	else
		ok "$x86: $kib KiB, within the $budget_kib KiB ceiling"
	fi
	if [ "$kib" -gt "$aim_kib" ]; then
		echo "NOTE: $x86: $kib KiB is above the $aim_kib KiB aim (README, Binary size)"
	fi
fi

echo "== 2. --version and -t, native and under $qemu"
# Where the interfaces the example configs name exist (-t checks them),
# whatever this machine's own are called.
in_lan() { sh tests/with_interfaces.sh eth0,br-lan "$@"; }
run_x86() { in_lan "$x86" "$@"; }
run_arm() { in_lan "$qemu" "$arm" "$@"; }
for arch in x86 arm; do
	out=$("run_$arch" --version 2>&1)
	if [ "$out" = "keepvip $version" ]; then
		ok "$arch: --version: $out"
	else
		fail "$arch: --version printed '$out', expected 'keepvip $version'"
	fi
done
configs=(cross/keepvip.conf tests/fixtures/seed/*.conf)
for conf in "${configs[@]}"; do
	# The article's check script does not exist here, and -t rightly
	# refuses a missing script: check the rest of that config with one
	# that does.
	if grep -q nginx_check.sh "$conf"; then
		sed 's#/etc/keepalived/nginx_check.sh#/bin/true#' "$conf" >"$work/$(basename "$conf")"
		conf="$work/$(basename "$conf")"
	fi
	# Exit 5: it loads, with warnings keepalived 2.2.7 counts as config
	# errors (its -t exits 5 too): the article's reference config has one.
	run_x86 -t -f "$conf" >"$work/x86.out" 2>"$work/x86.err"
	x86_status=$?
	if [ "$x86_status" != 0 ] && [ "$x86_status" != 5 ]; then
		fail "x86: -t refused $conf: $(cat "$work/x86.err")"
		continue
	fi
	run_arm -t -f "$conf" >"$work/arm.out" 2>"$work/arm.err"
	if [ $? != "$x86_status" ]; then
		fail "arm: -t refused $conf, or exited otherwise: $(cat "$work/arm.err")"
		continue
	fi
	if ! grep -q '^vrrp_instance ' "$work/x86.out"; then
		fail "$conf: -t described no vrrp_instance"
	elif ! cmp -s "$work/x86.out" "$work/arm.out" ||
		! diff <(sed 's/^keepvip\[[0-9]*\]/keepvip[PID]/' "$work/x86.err") \
			<(sed 's/^keepvip\[[0-9]*\]/keepvip[PID]/' "$work/arm.err") >/dev/null; then
		fail "$conf: x86_64 and aarch64 understand it differently:"
		diff "$work/x86.out" "$work/arm.out" >&2
		diff "$work/x86.err" "$work/arm.err" >&2
	else
		ok "-t $conf (x86_64 and aarch64 agree)"
	fi
done
# A wrong value must be refused, with exit status 1, on both.
sed 's/virtual_router_id 51/virtual_router_id 256/' cross/keepvip.conf >"$work/broken.conf"
for arch in x86 arm; do
	"run_$arch" -t -f "$work/broken.conf" >/dev/null 2>"$work/err"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q 'broken.conf' "$work/err"; then
		ok "$arch: -t refuses a broken config: $(head -1 "$work/err")"
	else
		fail "$arch: -t on a broken config: exit $rc, stderr: $(cat "$work/err")"
	fi
done

echo "== 3. unit tests, release profile, both musl targets"
cargo_test() { # CONFIG [extra cargo args]
	local config=$1
	shift
	cargo test -q --release --locked --config "$config" "$@" --lib --bins >"$work/unit.log" 2>&1
}
if cargo_test cross/x86_64-unknown-linux-musl.toml; then
	ok "x86_64 musl: $(grep -m1 'test result' "$work/unit.log")"
else
	tail -30 "$work/unit.log" >&2
	fail "unit tests on x86_64 musl"
fi
if cargo_test cross/aarch64-unknown-linux-musl.toml \
	--config "target.aarch64-unknown-linux-musl.runner=\"$qemu\""; then
	ok "aarch64 musl under qemu: $(grep -m1 'test result' "$work/unit.log")"
else
	tail -30 "$work/unit.log" >&2
	fail "unit tests on aarch64 musl under qemu"
fi

echo "== 4. init scripts and systemd unit"
for script in cross/openwrt/keepvip/files/{keepvip.init,keepvip-uci.sh,keepalived.rpcd,hotplug-user} cross/sysvinit/keepvip; do
	if sh -n "$script" && busybox ash -n "$script"; then
		ok "$script: sh -n, busybox ash -n"
	else
		fail "$script: syntax"
	fi
done
# systemd-analyze verify only warns ("ignoring") about unknown keys or
# bad values, so anything it prints is a failure. ExecStart must exist:
# verify a copy pointing at the static binary.
verify_unit() { # UNIT-FILE BINARY [DROP-IN]
	local copy
	copy="$work/verify/$(basename "$1")"
	rm -rf "$work/verify"
	mkdir -p "$work/verify"
	sed "s#/usr/sbin/keepvip#$(realpath "$2")#g" "$1" >"$copy"
	# A drop-in beside the copy is read with it, as from /etc/systemd/system.
	if [ -n "${3:-}" ]; then
		mkdir -p "$copy.d"
		cp "$3" "$copy.d/"
	fi
	systemd-analyze verify "$copy" >"$work/verify.out" 2>&1
	local rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$work/verify.out" ]; then
		cat "$work/verify.out" >&2
		return 1
	fi
}
if command -v systemd-analyze >/dev/null 2>&1; then
	# First make sure the check can fail here (systemd-analyze works on
	# this machine even without systemd as PID 1).
	printf '[Service]\nType=simpel\nExecStart=/bin/true\n' >"$work/bad.service"
	if verify_unit "$work/bad.service" "$x86" 2>/dev/null; then
		fail "systemd-analyze verify accepts a broken unit here: it checks nothing"
	elif verify_unit cross/systemd/keepvip.service "$x86"; then
		ok "cross/systemd/keepvip.service: systemd-analyze verify ($(systemd-analyze --version | head -1))"
	else
		fail "cross/systemd/keepvip.service: systemd-analyze verify"
	fi
	if verify_unit cross/systemd/keepvip-upgrade.service "$x86" &&
		systemd-analyze verify cross/systemd/keepvip-upgrade.path >"$work/verify.out" 2>&1 &&
		[ ! -s "$work/verify.out" ]; then
		ok "cross/systemd/keepvip-upgrade.{path,service}: systemd-analyze verify"
	else
		cat "$work/verify.out" >&2
		fail "cross/systemd/keepvip-upgrade.{path,service}: systemd-analyze verify"
	fi
	if verify_unit cross/systemd/keepvip.service "$x86" cross/systemd/keepvip-hardened.conf; then
		ok "cross/systemd/keepvip.service with the keepvip-hardened.conf drop-in: systemd-analyze verify"
	else
		fail "cross/systemd/keepvip-hardened.conf: systemd-analyze verify"
	fi
elif [ "${KEEPVIP_NO_SYSTEMD_ANALYZE:-}" = 1 ]; then
	echo "NOT CHECKED: systemd-analyze missing; the systemd unit was NOT verified" >&2
else
	fail "systemd-analyze not found (apt-get install systemd, or KEEPVIP_NO_SYSTEMD_ANALYZE=1)"
fi

echo "== 5. make install"
dest="$work/dest"
if make -s install DESTDIR="$dest" PREFIX=/usr INSTALL_BIN="$x86" >"$work/install.log" 2>&1; then
	missing=0
	for f in usr/sbin/keepvip etc/keepvip/keepvip.conf usr/lib/systemd/system/keepvip.service \
		usr/lib/systemd/system/keepvip-upgrade.path usr/lib/systemd/system/keepvip-upgrade.service \
		usr/share/doc/keepvip/keepvip.conf.example usr/share/doc/keepvip/keepvip-hardened.conf; do
		[ -f "$dest/$f" ] || {
			fail "make install: $f missing"
			missing=1
		}
	done
	if [ "$missing" = 0 ]; then
		if ! cmp -s "$dest/usr/sbin/keepvip" "$x86"; then
			fail "make install: installed binary is not $x86"
		elif ! "$dest/usr/sbin/keepvip" -t -f "$dest/etc/keepvip/keepvip.conf" >/dev/null; then
			fail "make install: the installed binary refuses the installed config"
		elif ! grep -q '^ExecStart=/usr/sbin/keepvip ' "$dest/usr/lib/systemd/system/keepvip.service" ||
			! grep -q '^Environment=KEEPVIP_CONFIG=/etc/keepvip/keepvip.conf' \
				"$dest/usr/lib/systemd/system/keepvip.service"; then
			fail "make install: unit paths do not follow PREFIX/SYSCONFDIR"
		elif command -v systemd-analyze >/dev/null 2>&1 &&
			! verify_unit "$dest/usr/lib/systemd/system/keepvip.service" "$dest/usr/sbin/keepvip"; then
			fail "make install: installed unit fails systemd-analyze verify"
		else
			ok "make install DESTDIR=... PREFIX=/usr: binary, config, example, unit"
		fi
		echo '! edited' >>"$dest/etc/keepvip/keepvip.conf"
		make -s install DESTDIR="$dest" PREFIX=/usr INSTALL_BIN="$x86" >"$work/install.log" 2>&1
		if tail -1 "$dest/etc/keepvip/keepvip.conf" | grep -q '! edited'; then
			ok "make install keeps an existing config"
		else
			fail "make install overwrote an existing config"
		fi
	fi
	sdest="$work/sdest"
	if make -s install DESTDIR="$sdest" PREFIX=/usr/local INIT=sysv INSTALL_BIN="$x86" >"$work/install.log" 2>&1 &&
		[ -x "$sdest/etc/init.d/keepvip" ] && [ -x "$sdest/usr/local/sbin/keepvip" ] &&
		grep -q '^: "${KEEPVIP_BIN:=/usr/local/sbin/keepvip}"' "$sdest/etc/init.d/keepvip" &&
		[ ! -e "$sdest/usr/local/lib/systemd" ]; then
		ok "make install INIT=sysv PREFIX=/usr/local: init script with the right paths"
	else
		cat "$work/install.log" >&2
		fail "make install INIT=sysv"
	fi
else
	cat "$work/install.log" >&2
	fail "make install"
fi

echo "== 6. the static binary on a namespace LAN (root)"
if [ "${KEEPVIP_SKIP_NETNS:-}" = 1 ]; then
	echo "SKIPPED: namespace checks with the static binary (KEEPVIP_SKIP_NETNS=1)" >&2
elif [ "$(id -u)" != 0 ]; then
	fail "namespace checks need root (or KEEPVIP_SKIP_NETNS=1 to skip them)"
else
	# The sysvinit script's life cycle, in a namespace of our own.
	ns="kvpkg$$"
	ip netns add "$ns" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" link add eth0 type veth peer name eth0p &&
		ip -n "$ns" link set eth0p up &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" addr add 192.0.2.1/24 dev eth0 || fail "netns setup"
	sed 's/router_id lb1/router_id pkgtest/' cross/keepvip.conf >"$work/ns.conf"
	init() {
		ip netns exec "$ns" env KEEPVIP_DEFAULTS=/nonexistent KEEPVIP_BIN="$(realpath "$x86")" \
			KEEPVIP_CONFIG="$work/ns.conf" KEEPVIP_PIDFILE="$work/ns.pid" \
			KEEPVIP_SYSLOG=no KEEPVIP_LOGFILE="$work/ns.log" sh cross/sysvinit/keepvip "$@"
	}
	has_vip() { ip -n "$ns" -4 addr show dev eth0 | grep -q '192.0.2.100/24'; }
	wait_for() { # TENTHS COMMAND...
		local i=0
		while [ $i -lt "$1" ]; do
			"${@:2}" && return 0
			sleep 0.1
			i=$((i + 1))
		done
		return 1
	}
	if init start >/dev/null && init status >/dev/null; then
		daemon_pid=$(cat "$work/ns.pid")
		ok "sysvinit start: pid $daemon_pid"
		if wait_for 80 has_vip; then ok "sysvinit: alone on the LAN, the daemon became master"; else fail "sysvinit: no VIP after 8 s"; fi
		# With an unknown keyword: -t exits 5, as keepalived's, the daemon
		# runs such a config, and so the script reloads it.
		sed -i 's/^global_defs {/global_defs {\n    keepvip_test_unknown 1/' "$work/ns.conf"
		reloaded() { grep -q "Reload complete" "$work/ns.log"; }
		if init reload >/dev/null && wait_for 50 reloaded && kill -0 "$daemon_pid" && has_vip; then
			ok "sysvinit reload (a config -t answers 5 for): SIGHUP taken, still running and master"
		else
			fail "sysvinit reload: $(tail -3 "$work/ns.log")"
		fi
		if init restart >/dev/null && [ "$(cat "$work/ns.pid")" = "$daemon_pid" ] && has_vip &&
			grep -q "resumed in MASTER after restart" "$work/ns.log"; then
			ok "sysvinit restart: keepvip restart, the same pid resumed as master with the VIP"
		else
			fail "sysvinit restart"
		fi
		if init stop >/dev/null && ! kill -0 "$daemon_pid" 2>/dev/null && ! has_vip && [ ! -e "$work/ns.pid" ]; then
			ok "sysvinit stop: process gone, VIP removed, pid file removed"
		else
			fail "sysvinit stop"
		fi
		init status >/dev/null
		[ $? -eq 3 ] && ok "sysvinit status after stop: 3 (not running)" || fail "sysvinit status after stop"
	else
		fail "sysvinit start"
		[ -s "$work/ns.pid" ] && kill -KILL "$(cat "$work/ns.pid")" 2>/dev/null
	fi
	[ $failures -eq 0 ] || cat "$work/ns.log" >&2

	# The hardened drop-in's SystemCallFilter=@system-service and
	# RestrictAddressFamilies must allow what the daemon really does:
	# trace a master's life (adverts, GARP, USR1/USR2/HUP, SIGTERM).
	if ! command -v strace >/dev/null 2>&1; then
		fail "strace not found (apt-get install strace): the unit's syscall filter is unchecked"
	elif ! command -v systemd-analyze >/dev/null 2>&1; then
		echo "NOT CHECKED: systemd-analyze missing; the unit's syscall filter was NOT checked" >&2
	else
		sed 's/priority 150/priority 255/' "$work/ns.conf" >"$work/owner.conf"
		ip netns exec "$ns" strace -f -qq -o "$work/trace" "$x86" -n -l -f "$work/owner.conf" \
			-p "$work/owner.pid" 2>"$work/owner.log" &
		tracer=$!
		daemon_pid=
		wait_for 50 test -s "$work/owner.pid" && daemon_pid=$(cat "$work/owner.pid")
		if [ -n "$daemon_pid" ] && wait_for 30 has_vip; then
			for sig in USR1 USR2 HUP TERM; do
				kill -"$sig" "$daemon_pid"
				sleep 0.3
			done
		else
			fail "traced daemon did not become master"
			cat "$work/owner.log" >&2
			[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid"
		fi
		wait "$tracer"
		declare -A group allowed
		# systemd-analyze syscall-filter prints each group as a header line
		# ("@name") followed by indented members (syscalls or @groups).
		cur=
		while IFS= read -r line; do
			case $line in
			@*) cur=$line ;;
			*[![:space:]]*)
				line=${line//[[:space:]]/}
				[[ $line == \#* ]] || group[$cur]+=" $line"
				;;
			esac
		done < <(systemd-analyze syscall-filter </dev/null 2>/dev/null)
		add_group() {
			local m
			for m in ${group[$1]}; do
				if [[ $m == @* ]]; then add_group "$m"; else allowed[$m]=1; fi
			done
		}
		add_group @system-service
		used=$(sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$work/trace" | sort -u)
		denied=
		for sc in $used; do
			[ -n "${allowed[$sc]+x}" ] || denied="$denied $sc"
		done
		families=$(grep -o 'socket(AF_[A-Z0-9]*' "$work/trace" | sed 's/socket(//' | sort -u | tr '\n' ' ')
		unit_families=$(sed -n 's/^RestrictAddressFamilies=//p' cross/systemd/keepvip-hardened.conf)
		bad_families=
		for f in $families; do
			[[ " $unit_families " == *" $f "* ]] || bad_families="$bad_families $f"
		done
		if [ "${#allowed[@]}" -lt 100 ] || [ -z "$used" ]; then
			fail "syscall check: could not read @system-service (${#allowed[@]}) or the trace"
		elif [ -n "$denied" ]; then
			fail "the daemon uses system calls outside SystemCallFilter=@system-service:$denied"
		elif [ -n "$bad_families" ]; then
			fail "the daemon opens sockets outside RestrictAddressFamilies:$bad_families"
		else
			ok "unit hardening allows all $(echo "$used" | wc -l) system calls and the socket families ($families) the daemon used"
		fi
	fi
	ip netns del "$ns"
	ns=

	# One seed article failover test, both routers the static binary.
	test_name=case2_master_backup::keepvip_keepvip
	if KEEPVIP_BIN="$(realpath "$x86")" cargo test -q --locked --test seed_failover "$test_name" \
		-- --exact --include-ignored --test-threads=1 >"$work/seed.log" 2>&1 &&
		grep -q '1 passed' "$work/seed.log"; then
		ok "seed failover $test_name with KEEPVIP_BIN=$x86"
	else
		cat "$work/seed.log" >&2
		fail "seed failover $test_name with the static binary"
	fi
fi

echo
if [ $failures -ne 0 ]; then
	echo "static checks: $failures FAILED" >&2
	exit 1
fi
echo "static checks: all passed"
