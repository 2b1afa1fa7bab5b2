//! What a master owns beyond its plain VIPs, on a namespace LAN: address
//! options as keepalived writes them (`label`, `scope`, `brd`, `no_track`,
//! `peer`, `preferred_lft`, the flag words)
//! and keepalived's tracking of the interfaces its addresses are on;
//! virtual and static routes and rules, multipath ones too, as keepalived
//! installs them.
//!
//! Needs root (network namespaces) and tcpdump. Set KEEPVIP_SKIP_NETNS=1
//! to skip explicitly where that is impossible.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Impl, Lan, Tcpdump, ELECTION};

const R1: usize = 1;
const VIP: &str = "192.0.2.100";

fn ip_in(lan: &Lan, router: usize, args: &[&str]) -> String {
    let out = Command::new("ip")
        .arg("-n")
        .arg(lan.ns(router))
        .args(args)
        .output()
        .expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One VRRPv3 instance at 0.2 s with `addresses` in virtual_ipaddress and
/// `extra` in its block; `top` after it.
fn config(addresses: &str, extra: &str, top: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    virtual_router_id 61\n\
         \x20   priority 150\n    version 3\n    advert_int 0.2\n\
         \x20   virtual_ipaddress {{\n{addresses}    }}\n{extra}}}\n{top}"
    )
}

/// OpenWrt's generator writes `ADDR dev D label D:vip scope S`: the label,
/// scope and broadcast address reach the kernel. An address on another
/// interface ties the instance to it as keepalived 2.2.7 does (that
/// interface down: FAULT, every address removed), unless it says
/// `no_track`.
#[test]
fn address_options_and_the_interfaces_of_addresses() {
    let Some(mut lan) = Lan::new("addr-options", 1) else {
        return;
    };
    lan.add_side_link(R1, "eth1", Some("198.51.100.1/24"));
    lan.add_side_link(R1, "eth2", Some("203.0.113.1/24"));
    let addresses = format!(
        "        {VIP}/24 dev eth0 label eth0:vip scope global brd +\n\
         \x20       192.0.2.101/32 dev eth0 scope link\n\
         \x20       198.51.100.100/24 dev eth1\n\
         \x20       203.0.113.100/24 dev eth2 no_track\n"
    );
    lan.start(R1, Impl::Keepvip, &config(&addresses, "", ""));
    lan.wait_sole_holder(R1, VIP, ELECTION);
    let eth0 = ip_in(&lan, R1, &["-o", "addr", "show", "dev", "eth0"]);
    assert!(
        eth0.contains(&format!(
            "{VIP}/24 brd 192.0.2.255 scope global secondary eth0:vip"
        )),
        "{eth0}"
    );
    assert!(eth0.contains("192.0.2.101/32 scope link eth0"), "{eth0}");

    // no_track: its interface going down changes nothing.
    ip_in(&lan, R1, &["link", "set", "eth2", "down"]);
    lan.holds_for(Duration::from_secs(1), "r1 stays master", || {
        lan.holds_vip(R1, VIP)
    });
    assert!(!lan.log(R1).contains("FAULT"), "{}", lan.log(R1));
    ip_in(&lan, R1, &["link", "set", "eth2", "up"]);

    // Tracked: FAULT, and back to master when it returns.
    ip_in(&lan, R1, &["link", "set", "eth1", "down"]);
    lan.wait_until(ELECTION, "r1 in FAULT without its VIP", || {
        lan.log(R1).contains("(VI_1) Entering FAULT STATE") && !lan.holds_vip(R1, VIP)
    });
    ip_in(&lan, R1, &["link", "set", "eth1", "up"]);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_until(ELECTION, "198.51.100.100 back on eth1", || {
        ip_in(&lan, R1, &["-o", "addr", "show", "dev", "eth1"]).contains("198.51.100.100/24")
    });
}

const R2: usize = 2;

/// keepalived's own example shapes: a gateway route, a source route into
/// table 100 (after the VIP it names), a blackhole, an onlink gateway;
/// rules on source, destination with iif, fwmark, one without a priority
/// (keepalived numbers it 16384); and static ones held from start to stop.
const ROUTES: &str = "    virtual_routes {\n\
     \x20       203.0.113.0/24 via 198.51.100.1 dev eth1 metric 7\n\
     \x20       src 192.0.2.100 to 203.0.113.128/25 dev eth0 table 100\n\
     \x20       blackhole 198.51.100.128/25\n\
     \x20       198.51.100.64/26 via 203.0.113.254 dev eth1 onlink\n\
     \x20   }\n\
     \x20   virtual_rules {\n\
     \x20       from 192.0.2.100 table 100 priority 100\n\
     \x20       to 203.0.113.0/24 iif eth0 table 100 preference 101\n\
     \x20       fwmark 7 table 100 priority 102\n\
     \x20       from 198.51.100.0/24 table 100\n\
     \x20   }\n";
const STATICS: &str = "static_ipaddress {\n    203.0.113.7/32 dev eth1 scope link\n}\n\
     static_routes {\n    198.51.100.200/32 dev eth1 scope link\n}\n\
     static_rules {\n    from 203.0.113.7 table 200 priority 200\n}\n";

fn routes_config(priority: u8) -> String {
    config(&format!("        {VIP}/24\n"), ROUTES, STATICS)
        .replace("priority 150", &format!("priority {priority}"))
        .replace("state MASTER", "state BACKUP")
}

/// Routes and rules marked as keepalived's (proto keepalived), every
/// table, sorted; and the static address if there.
fn owned(lan: &Lan, router: usize) -> Vec<String> {
    let mut lines: Vec<String> = ip_in(lan, router, &["route", "show", "table", "all"])
        .lines()
        .chain(ip_in(lan, router, &["rule", "show"]).lines())
        .filter(|l| l.contains("proto keepalived"))
        .map(|l| l.trim().to_string())
        .collect();
    if ip_in(lan, router, &["-o", "addr", "show", "dev", "eth1"]).contains("203.0.113.7/32") {
        lines.push("static address 203.0.113.7/32".to_string());
    }
    lines.sort();
    lines
}

/// What a backup (or any running daemon) owns: the statics alone.
fn statics_only() -> Vec<String> {
    let mut lines = vec![
        "198.51.100.200 dev eth1 proto keepalived scope link".to_string(),
        "200:\tfrom 203.0.113.7 lookup 200 proto keepalived".to_string(),
        "static address 203.0.113.7/32".to_string(),
    ];
    lines.sort();
    lines
}

/// virtual_routes/virtual_rules move with the master and static_* stay,
/// between keepvip and keepalived 2.2.7 in both roles: keepvip as master
/// installs exactly what keepalived installs (compared line by line from
/// `ip route`/`ip rule`), as backup only the statics; a route or rule
/// deleted under a keepvip master is put back; a graceful stop removes
/// the statics, as keepalived's does.
#[test]
fn virtual_and_static_routes_and_rules_as_keepalived() {
    let Some(mut lan) = Lan::new("routes-ka", 2) else {
        return;
    };
    lan.add_side_link(R1, "eth1", Some("198.51.100.11/24"));
    lan.add_side_link(R2, "eth1", Some("198.51.100.12/24"));

    // keepalived master, keepvip backup.
    lan.start(R2, Impl::Keepalived, &routes_config(150));
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.wait_until(ELECTION, "keepalived set its routes and rules", || {
        owned(&lan, R2).len() == statics_only().len() + 8
    });
    let keepalived_master = owned(&lan, R2);
    lan.start(R1, Impl::Keepvip, &routes_config(100));
    lan.wait_until(ELECTION, "r1 (keepvip) is backup with the statics", || {
        lan.log(R1).contains("(VI_1) Entering BACKUP STATE") && owned(&lan, R1) == statics_only()
    });
    lan.holds_for(
        Duration::from_millis(600),
        "r1 holds the statics alone",
        || owned(&lan, R1) == statics_only(),
    );

    // keepalived stops: keepvip takes over with the same routes and rules.
    lan.stop(R2);
    lan.wait_sole_holder(R1, VIP, ELECTION);
    lan.wait_until(ELECTION, "r1 (keepvip) owns what keepalived owned", || {
        owned(&lan, R1) == keepalived_master
    });
    assert!(
        owned(&lan, R2).is_empty(),
        "keepalived left {:?}",
        owned(&lan, R2)
    );

    // Someone deletes a virtual route, a virtual rule and a static route.
    ip_in(
        &lan,
        R1,
        &[
            "route",
            "del",
            "203.0.113.0/24",
            "via",
            "198.51.100.1",
            "metric",
            "7",
        ],
    );
    ip_in(&lan, R1, &["rule", "del", "priority", "101"]);
    ip_in(
        &lan,
        R1,
        &["route", "del", "198.51.100.200/32", "dev", "eth1"],
    );
    lan.wait_until(Duration::from_secs(3), "r1 put them back", || {
        owned(&lan, R1) == keepalived_master
    });

    // keepalived returns and preempts: keepvip keeps only the statics.
    lan.start(R2, Impl::Keepalived, &routes_config(150));
    lan.wait_sole_holder(R2, VIP, ELECTION);
    lan.wait_until(
        ELECTION,
        "r1 (keepvip backup) removed its virtual routes",
        || owned(&lan, R1) == statics_only(),
    );
    lan.wait_until(ELECTION, "r2 (keepalived) set them again", || {
        owned(&lan, R2) == keepalived_master
    });

    // A graceful stop removes the statics too.
    lan.stop(R1);
    assert!(
        owned(&lan, R1).is_empty(),
        "keepvip left {:?}",
        owned(&lan, R1)
    );
}

/// Multipath routes in keepalived's two forms: `nexthop via A dev X
/// weight N nexthop ...` and the older `via A or B [dev X]`; a `dev` of
/// the line stays the route's; an option after the nexthops is ignored
/// as keepalived 2.2.7 ignores it (the route goes to main, not table 100).
const MULTIPATH: &str = "    virtual_routes {\n\
     \x20       203.0.113.64/26 via 192.0.2.1 or 198.51.100.1\n\
     \x20       2001:db8:6::/64 via 2001:db8::1 or 2001:db8::2 dev eth0\n\
     \x20       203.0.113.128/26 metric 9 table 100 nexthop dev eth1 weight 256 nexthop via 192.0.2.3 onlink dev eth0\n\
     \x20       203.0.113.192/26 nexthop via 192.0.2.1 nexthop via 198.51.100.1 weight 5 table 100\n\
     \x20   }\n";
const MULTIPATH_STATICS: &str = "static_routes {\n\
     \x20   203.0.113.0/26 nexthop via 192.0.2.1 dev eth0 weight 2 nexthop via 198.51.100.1 dev eth1\n\
     \x20   2001:db8:5::/64 nexthop via 2001:db8::1 dev eth0 weight 3 nexthop via 2001:db8::2 dev eth0\n\
     }\n";

/// keepalived's routes (proto keepalived) of every table and both
/// families, one line each (`ip -o`: a route's nexthops on its line).
fn owned_routes(lan: &Lan, router: usize) -> Vec<String> {
    let mut lines: Vec<String> = ["-4", "-6"]
        .iter()
        .flat_map(|family| {
            ip_in(
                lan,
                router,
                &[family, "-o", "route", "show", "table", "all"],
            )
            .lines()
            .filter(|l| l.contains("proto keepalived"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    lines
}

/// The same multipath virtual and static routes on a keepvip master and
/// a keepalived 2.2.7 master (side by side, each its own VRID) give the
/// same `ip route` lines; keepvip's go when it stops.
#[test]
fn multipath_routes_as_keepalived() {
    let Some(mut lan) = Lan::new("multipath-ka", 2) else {
        return;
    };
    for router in [R1, R2] {
        let cidr = format!("198.51.100.1{router}/24");
        lan.add_side_link(router, "eth1", Some(&cidr));
    }
    let config_for = |vrid: u8| {
        config(&format!("        {VIP}/24\n"), MULTIPATH, MULTIPATH_STATICS)
            .replace("virtual_router_id 61", &format!("virtual_router_id {vrid}"))
    };
    lan.start(R2, Impl::Keepalived, &config_for(62));
    lan.start(R1, Impl::Keepvip, &config_for(63));
    lan.wait_until(
        ELECTION,
        "keepalived set its 2 static and 4 virtual routes",
        || lan.holds_vip(R2, VIP) && owned_routes(&lan, R2).len() == 6,
    );
    let keepalived = owned_routes(&lan, R2);
    assert!(
        keepalived
            .iter()
            .any(|l| l.contains("nexthop via 198.51.100.1 dev eth1 weight 5")),
        "{keepalived:#?}"
    );
    lan.wait_until(ELECTION, "keepvip set the same routes", || {
        lan.holds_vip(R1, VIP) && owned_routes(&lan, R1) == keepalived
    });
    lan.stop(R1);
    assert!(
        owned_routes(&lan, R1).is_empty(),
        "{:?}",
        owned_routes(&lan, R1)
    );
}

/// Address lines with `peer`, `preferred_lft` and the flag words, in a
/// vrrp_instance (IPv4 VIPs, IPv6 excluded ones) and in static_ipaddress.
const KERNEL_OPTIONS: &str = "        192.0.2.111 peer 192.0.2.99\n\
     \x20       192.0.2.120/24 peer 192.0.2.96\n\
     \x20       192.0.2.112/24 preferred_lft 0\n\
     \x20       192.0.2.123/28 noprefixroute\n";
const KERNEL_OPTIONS_EXCLUDED: &str = "    virtual_ipaddress_excluded {\n\
     \x20       2001:db8::121\n\
     \x20       2001:db8::122/128 preferred_lft forever\n\
     \x20       2001:db8::118/64 preferred_lft 0\n\
     \x20       2001:db8::119/64 preferred_lft 4294967295\n\
     \x20       2001:db8::110/64 home\n\
     \x20       2001:db8::112/64 -nodad\n\
     \x20       2001:db8::113/64 noprefixroute\n\
     \x20       2001:db8::114/64 mngtmpaddr\n\
     \x20       2001:db8::115/64 autojoin\n\
     \x20       2001:db8::116 peer 2001:db8::99\n\
     \x20   }\n";
const KERNEL_OPTIONS_STATICS: &str = "static_ipaddress {\n\
     \x20   192.0.2.132 dev eth0 peer 192.0.2.98\n\
     \x20   2001:db8::131/64 dev eth0 preferred_lft 0\n\
     }\n";

/// The router's addresses that the configs above name, one line each as
/// `ip -o addr` prints them, without the interface index.
fn configured_addresses(lan: &Lan, router: usize) -> Vec<String> {
    let mut lines: Vec<String> = ip_in(lan, router, &["-o", "addr", "show", "dev", "eth0"])
        .lines()
        .filter(|l| {
            ["192.0.2.1", "2001:db8::1"].iter().any(|prefix| {
                l.contains(&format!("inet {prefix}")) || l.contains(&format!("inet6 {prefix}"))
            })
        })
        .filter(|l| !l.contains(&format!(" {}/", lan.addr(router))))
        .filter(|l| !l.contains(&format!(" {}/", lan.addr6(router))))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

/// The same `peer`, `preferred_lft` and flag options on a keepvip master
/// and a keepalived 2.2.7 master (each alone on its LAN, side by side) give
/// the same `ip addr` lines: point-to-point /32s and /128s whatever prefix
/// the line had, IPv6 /128s deprecated unless `preferred_lft forever`,
/// IPv4 lifetimes left alone, the flags (`-nodad` dropping nodad) and
/// `autojoin` on a unicast address refused by the kernel on both. keepvip
/// removes them all at stop, the point-to-point ones too.
#[test]
fn peer_preferred_lft_and_flags_as_keepalived() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans = Lan::side_by_side(&lock, &["addr-kernel-kv", "addr-kernel-ka"], 1);
    let conf = config(
        &format!("        {VIP}/24\n{KERNEL_OPTIONS}"),
        KERNEL_OPTIONS_EXCLUDED,
        KERNEL_OPTIONS_STATICS,
    );
    lans[1].start(R1, Impl::Keepalived, &conf);
    lans[0].start(R1, Impl::Keepvip, &conf);
    let (keepvip, keepalived) = (&lans[0], &lans[1]);
    // 16 lines: every address but the autojoin one, DAD of -nodad done.
    let settled = |lan: &Lan| {
        let lines = configured_addresses(lan, R1);
        lan.holds_vip(R1, VIP)
            && lines.len() == 16
            && !lines.iter().any(|l| l.contains("tentative"))
    };
    keepalived.wait_until(ELECTION, "keepalived added its addresses", || {
        settled(keepalived)
    });
    let expected = configured_addresses(keepalived, R1);
    for want in [
        "inet 192.0.2.111 peer 192.0.2.99/32",
        "inet 192.0.2.120 peer 192.0.2.96/32",
        "inet6 2001:db8::121/128 scope global nodad deprecated",
        "inet6 2001:db8::112/64 scope global \\",
        "inet6 2001:db8::113/64 scope global nodad noprefixroute",
    ] {
        assert!(
            expected.iter().any(|l| l.contains(want)),
            "{want} not in {expected:#?}"
        );
    }
    keepvip.wait_until(ELECTION, "keepvip added the same addresses", || {
        settled(keepvip) && configured_addresses(keepvip, R1) == expected
    });
    lans[0].stop(R1);
    let left = configured_addresses(&lans[0], R1);
    assert!(left.is_empty(), "{left:#?}");
}

/// A reload that changes only how a running master's address is written.
/// keepalived 2.2.7 (watched, and checked here side by side) takes a
/// changed `label` or `scope` as another address: it says "ip address
/// ADDR dev IF, no longer exist", deletes the address, adds it with the new
/// label, scope and `brd` at once and announces it. (A change of `brd`,
/// `preferred_lft` or the flag words alone it leaves for the next time the
/// address is added: so does keepvip.) A changed `peer` keepalived leaves
/// alone, and then cannot remove the address when it stops (the kernel
/// knows it by its old peer): keepvip replaces it, as for a label.
#[test]
fn reload_rewrites_an_address_whose_label_scope_or_peer_changed() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans = Lan::side_by_side(&lock, &["reload-addr-kv", "reload-addr-ka"], 1);
    let written = |relabelled: &str, peer: &str| {
        let addresses = format!(
            "        {VIP}/24\n\
             \x20       198.51.100.100/24 dev eth0 {relabelled}\n\
             \x20       203.0.113.100 dev eth0 peer {peer}\n"
        );
        config(&addresses, "    garp_master_delay 0\n", "")
    };
    let before = written("label eth0:a", "203.0.113.201");
    let after = written(
        "label eth0:b scope link brd 198.51.100.127",
        "203.0.113.202",
    );
    lans[0].start(R1, Impl::Keepvip, &before);
    lans[1].start(R1, Impl::Keepalived, &before);
    let eth0 = |lan: &Lan| ip_in(lan, R1, &["-d", "-o", "addr", "show", "dev", "eth0"]);
    for lan in &lans {
        lan.wait_until(ELECTION, "r1 is master with every address", || {
            let shown = eth0(lan);
            lan.holds_vip(R1, VIP)
                && shown.contains("198.51.100.100/24 scope global eth0:a")
                && shown.contains("203.0.113.100 peer 203.0.113.201/32")
        });
    }
    let marks: Vec<_> = lans.iter().map(Lan::mark).collect();
    let reloaded_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64();
    for lan in &mut lans {
        lan.reload(R1, &after);
    }
    let rewritten = "198.51.100.100/24 brd 198.51.100.127 scope link eth0:b";
    for (lan, &mark) in lans.iter().zip(&marks) {
        lan.wait_until(Duration::from_secs(2), "the address is rewritten", || {
            eth0(lan).contains(rewritten) && lan.garp_seen_from(R1, "198.51.100.100", mark)
        });
        let announced = lan.garp_times_since(R1, "198.51.100.100", mark);
        assert!(
            announced.first().is_some_and(|t| t - reloaded_at < 1.0),
            "announced at {announced:?}, reloaded at {reloaded_at}"
        );
        assert!(!eth0(lan).contains("eth0:a"), "{}", eth0(lan));
    }
    let keepvip = &lans[0];
    let shown = eth0(keepvip);
    assert!(
        shown.contains("203.0.113.100 peer 203.0.113.202/32") && !shown.contains("203.0.113.201"),
        "{shown}"
    );
    // Its own removal of the old address is no deletion by someone else.
    keepvip.wait_until(Duration::from_secs(2), "the reload is logged", || {
        keepvip.log(R1).contains("Reload complete")
    });
    lans[0].stop(R1);
    let log = lans[0].log(R1);
    assert!(!log.contains("removed by someone else"), "{log}");
    let left = eth0(&lans[0]);
    assert!(
        !left.contains("198.51.100.100") && !left.contains("203.0.113.100"),
        "{left}"
    );
}

/// Two instances with an address on `kvlate0`, an interface that does not
/// exist yet, under `dynamic_interfaces`; VI_1 tracks it (the default)
/// and has a route and a rule on it, VI_2's line says `no_track`; a static
/// address and route on it too.
fn late_interface_config() -> String {
    let instance = |name: &str, vrid: u8, vip: &str, dev_address: &str, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n    state MASTER\n    interface eth0\n\
             \x20   virtual_router_id {vrid}\n    priority 150\n    version 3\n    advert_int 0.2\n\
             \x20   virtual_ipaddress {{\n        {vip}/24\n        {dev_address}\n    }}\n{extra}}}\n"
        )
    };
    let vi1_routes = "    virtual_routes {\n        198.51.100.128/25 dev kvlate0\n    }\n\
                      \x20   virtual_rules {\n        from 192.0.2.100 iif kvlate0 table 100 priority 100\n    }\n";
    format!(
        "global_defs {{\n    dynamic_interfaces\n}}\n{LATE_STATICS}{}{}",
        instance("VI_1", 61, VIP, "198.51.100.100/24 dev kvlate0", vi1_routes),
        instance(
            "VI_2",
            62,
            "192.0.2.101",
            "198.51.100.101/24 dev kvlate0 no_track",
            ""
        ),
    )
}

const LATE_STATICS: &str = "static_ipaddress {\n    203.0.113.7/32 dev kvlate0\n}\n\
                            static_routes {\n    203.0.113.64/26 dev kvlate0\n}\n";

/// What the config above puts on or through kvlate0 besides the VIPs.
fn on_late_interface(lan: &Lan) -> [bool; 4] {
    let routes = ip_in(lan, R1, &["route"]);
    let route = |to: &str| {
        routes
            .lines()
            .any(|l| l.starts_with(&format!("{to} dev kvlate0 ")))
    };
    let rules = ip_in(lan, R1, &["rule"]);
    [
        lan.holds_vip_on(R1, "kvlate0", "203.0.113.7"),
        route("203.0.113.64/26"),
        route("198.51.100.128/25"),
        rules.contains("100:\tfrom 192.0.2.100 iif kvlate0 lookup 100"),
    ]
}

/// With `dynamic_interfaces`, an address whose `dev` does not exist yet
/// waits for it, as in keepalived 2.2.7 (side by side): the instance that
/// tracks it waits in FAULT and becomes master with all its addresses once
/// the interface is there; the one whose line says `no_track` is master at
/// once with its other addresses, and keepvip adds and announces the
/// waiting one as soon as the interface comes up (keepalived 2.2.7, watched, says "Not
/// adding address ... since interface doesn't exist" and adds it only the
/// next time the instance becomes master: not compared). The interface
/// deleted again: FAULT for the tracking instance, the other stays master,
/// and its addresses wait for the interface again. Static addresses and
/// routes on it, and the tracking instance's route and rule, go in when
/// it appears (or when the instance becomes master), on both. (keepvip used to refuse to start: "dev kvlate0: No such device".)
#[test]
fn an_address_waits_for_its_late_interface_with_dynamic_interfaces() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans = Lan::side_by_side(&lock, &["late-dev-kv", "late-dev-ka"], 1);
    let conf = late_interface_config();
    lans[0].start(R1, Impl::Keepvip, &conf);
    lans[1].start(R1, Impl::Keepalived, &conf);
    let faults = |lan: &Lan| {
        lan.log(R1)
            .to_lowercase()
            .matches("(vi_1) entering fault state")
            .count()
    };
    for lan in &lans {
        lan.wait_until(ELECTION, "VI_2 master, VI_1 in FAULT", || {
            lan.holds_vip(R1, "192.0.2.101") && faults(lan) > 0
        });
        assert!(!lan.holds_vip(R1, VIP), "{}", lan.diagnose("VI_1 master"));
    }
    let on_late = |lan: &Lan, vip: &str| lan.holds_vip_on(R1, "kvlate0", vip);
    // kvlate0 created down, listened to from its peer, then brought up.
    let mut captures = Vec::new();
    for lan in &lans {
        ip_in(lan, R1, &["link", "add", "kvlate0", "type", "veth"]);
        ip_in(lan, R1, &["link", "set", "veth0", "up"]);
        let (out, err) = (lan.dir().join("veth0.txt"), lan.dir().join("veth0.err"));
        let args = ["-i", "veth0", "-n", "-l", "--immediate-mode", "arp"];
        captures.push((Tcpdump::start(lan.ns(R1), &args, &out, &err), out));
    }
    // `Request who-has IP (ff:ff:ff:ff:ff:ff) tell IP, length 28`
    let announced = |out: &std::path::Path, vip: &str| {
        std::fs::read_to_string(out)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains(&format!("who-has {vip} ")) && l.contains(&format!("tell {vip},")))
    };
    for lan in &lans {
        ip_in(lan, R1, &["link", "set", "kvlate0", "up"]);
    }
    let keepvip = &lans[0];
    let took = keepvip.wait_until(ELECTION, "keepvip's no_track address added", || {
        on_late(keepvip, "198.51.100.101") && announced(&captures[0].1, "198.51.100.101")
    });
    assert!(took < Duration::from_secs(1), "added after {took:?}");
    for (lan, (_, out)) in lans.iter().zip(&captures) {
        lan.wait_until(ELECTION, "VI_1 master with both, announced", || {
            lan.holds_vip(R1, VIP)
                && on_late(lan, "198.51.100.100")
                && announced(out, "198.51.100.100")
        });
        lan.wait_until(ELECTION, "statics, route and rule on kvlate0", || {
            on_late_interface(lan) == [true; 4]
        });
    }
    for lan in &lans {
        let before = faults(lan);
        ip_in(lan, R1, &["link", "del", "kvlate0"]);
        lan.wait_until(ELECTION, "VI_1 back in FAULT", || {
            faults(lan) > before && !lan.holds_vip(R1, VIP) && on_late_interface(lan) == [false; 4]
        });
        assert!(lan.holds_vip(R1, "192.0.2.101"), "{}", lan.diagnose("VI_2"));
    }
    // The kernel took the addresses away with their interface: nobody
    // else removed them, and there is nothing to put back or remove.
    let log = lans[0].log(R1);
    assert!(
        !log.contains("removed by someone else") && !log.contains("ERROR"),
        "{log}"
    );
}

/// With `dynamic_interfaces`, a master's address waiting for its `dev`:
/// `in_between` (a reload, a restart) after the interface was created,
/// down, and before it comes up must not take the address for placed; it
/// goes on when the interface comes up, as without it.
fn an_address_waiting_for_its_interface_goes_on_after(
    tag: &str,
    in_between: impl Fn(&mut Lan, &str),
) {
    let Some(mut lan) = Lan::new(tag, 1) else {
        return;
    };
    let conf = "global_defs {\n    dynamic_interfaces\n}\n\
         vrrp_instance VI_2 {\n    state MASTER\n    interface eth0\n\
         \x20   virtual_router_id 62\n    priority 150\n    version 3\n    advert_int 0.2\n\
         \x20   virtual_ipaddress {\n        192.0.2.101/24\n\
         \x20       198.51.100.101/24 dev kvlate0 no_track\n    }\n}\n";
    lan.start(R1, Impl::Keepvip, conf);
    lan.wait_until(ELECTION, "VI_2 master", || lan.holds_vip(R1, "192.0.2.101"));
    ip_in(&lan, R1, &["link", "add", "kvlate0", "type", "veth"]);
    in_between(&mut lan, conf);
    ip_in(&lan, R1, &["link", "set", "veth0", "up"]);
    ip_in(&lan, R1, &["link", "set", "kvlate0", "up"]);
    lan.wait_until(ELECTION, "the address on kvlate0", || {
        lan.holds_vip_on(R1, "kvlate0", "198.51.100.101")
    });
}

#[test]
fn an_address_waiting_for_its_interface_goes_on_after_a_reload_in_between() {
    an_address_waiting_for_its_interface_goes_on_after("late-dev-hup", |lan, conf| {
        lan.reload(R1, conf);
        lan.wait_until(ELECTION, "the reload done", || {
            lan.log(R1).contains("Reload complete")
        });
    });
}

/// The same with a restart (SIGQUIT) in between: the next image resumes
/// the master with the address at the interface's index, where the old
/// image never put it.
#[test]
fn an_address_waiting_for_its_interface_goes_on_after_a_restart_in_between() {
    an_address_waiting_for_its_interface_goes_on_after("late-dev-quit", |lan, _| {
        lan.signal(R1, libc::SIGQUIT);
        lan.wait_until(ELECTION, "the restart done", || {
            lan.log(R1)
                .contains("(VI_2) resumed in MASTER after restart")
        });
    });
}
