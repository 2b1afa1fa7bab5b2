#!/bin/sh
# with_interfaces.sh IF[,IF...] COMMAND [ARG...]
#
# Runs COMMAND in a network namespace of its own that has an interface
# (one end of a veth pair, up: this kernel has no dummy driver) of each
# given name, and nothing else: `keepvip -t`
# refuses a config naming an interface the machine does not have, as
# keepalived does, so checks of example configs (eth0, br-lan) must not
# depend on the host's own interface names. The namespace goes away with
# the command; nothing on the host is touched. Without root, `-r` maps
# the caller to root in a new user namespace; root needs none, and the
# kernel refuses one in a chroot (EPERM) or under
# user.max_user_namespaces=0.
set -eu
interfaces=$1
shift
as_root=-r
[ "$(id -u)" = 0 ] && as_root=
exec unshare $as_root -n sh -c '
	set -e
	n=0
	for name in $(echo "$1" | tr , " "); do
		n=$((n + 1))
		ip link add "$name" type veth peer name "kvpeer$n"
		ip link set "$name" up
	done
	shift
	exec "$@"
' sh "$interfaces" "$@"
