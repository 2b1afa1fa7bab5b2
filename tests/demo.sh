#!/bin/sh
# Two keepvip routers on a namespace LAN: r1 (priority 150) and r2 (100)
# share VIP 192.0.2.100. r1 dies (link down + SIGKILL), r2 takes the VIP,
# r1 returns and takes it back (preempt). Run as root: `make demo`.
# Everything lives in namespaces named kvdemo<pid>-*, removed on exit.
set -eu

BIN=$(realpath "${1:-target/release/keepvip}")
TAG="kvdemo$$"
SW="$TAG-sw"
DIR=$(mktemp -d /tmp/kvdemo.XXXXXX)
VIP=192.0.2.100
PIDS=""

if [ "$(id -u)" != 0 ]; then
    echo "make demo needs root (network namespaces)" >&2
    exit 1
fi

cleanup() {
    for pid in $PIDS; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in "$TAG-r1" "$TAG-r2" "$SW"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
for i in 1 2; do
    ns="$TAG-r$i"
    ip netns add "$ns"
    ip -n "$SW" link add "p$i" type veth peer name eth0 netns "$ns"
    ip -n "$SW" link set "p$i" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" addr add "192.0.2.1$i/24" dev eth0
done

write_config() { # name priority
    cat > "$DIR/$1.conf" <<EOF
! keepalived.conf, as the seed article writes it
global_defs {
    router_id $1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 50
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $VIP
    }
}
EOF
}
write_config r1 150
write_config r2 100

start() { # router
    ip netns exec "$TAG-$1" "$BIN" -n -l -f "$DIR/$1.conf" --status-socket "$DIR/$1.sock" >>"$DIR/$1.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "PID_$1=$!"
}

holder() {
    for r in r1 r2; do
        if ip -n "$TAG-$r" -4 addr show dev eth0 | grep -q "inet $VIP/"; then
            if ip -n "$TAG-$r" link show eth0 | grep -q "state UP"; then printf '%s ' "$r"; fi
        fi
    done
}

wait_for_holder() { # router what
    i=0
    while [ "$(holder)" != "$1 " ]; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "FAILED: expected $1 to hold $VIP ($2); holders: $(holder)" >&2
            tail -n 20 "$DIR"/*.log >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$(date +%T)  $2: $VIP is on $1"
}

echo "== start r1 (priority 150) and r2 (priority 100)"
start r1
start r2
wait_for_holder r1 "after start"

echo "== r1 dies (link down, SIGKILL)"
ip -n "$TAG-r1" link set eth0 down
eval "kill -9 \$PID_r1"
wait_for_holder r2 "after r1 died"

echo "== r1 returns"
ip -n "$TAG-r1" link set eth0 up
start r1
wait_for_holder r1 "after r1 returned (preempt)"

echo "== r1's log"
cat "$DIR/r1.log"
echo "== r2's log"
cat "$DIR/r2.log"
echo "demo OK"
