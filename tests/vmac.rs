//! `use_vmac`: the virtual addresses live on a macvlan with the virtual
//! MAC 00:00:5e:00:01:VRID, so a client's ARP entry for a VIP names the
//! virtual router, not a box, and stays right across a failover. Run with
//! keepalived 2.2.7 as the peer, in both roles (VRRPv3 at 0.2 s, which
//! use_vmac allows, to keep it short). The same for one address
//! (`ADDR dev eth1 use_vmac`), with `garp_extra_if` sending on its macvlan.
//!
//! The first test runs an IPv4 and an IPv6 instance of one VRID side by
//! side (vrrp.51 and vrrp6.51, as keepalived names them).
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use common::{AddressMonitor, Impl, Lan, Tcpdump, ELECTION};
use std::fs;
use std::process::Command;
use std::time::Duration;

const VIP: &str = "192.0.2.100";
const VMAC: &str = "vrrp.51";
const VIRTUAL_MAC: &str = "00:00:5e:00:01:33";
/// The IPv6 instance of the same VRID on the same interface: keepalived
/// 2.2.7 names its macvlan vrrp6.VRID (vrrp.VRID is the IPv4 one's).
const VIP6: &str = "2001:db8::100";
const VMAC6: &str = "vrrp6.51";
const VIRTUAL_MAC6: &str = "00:00:5e:00:02:33";
const KEEPVIP: usize = 1;
const KEEPALIVED: usize = 2;
const CLIENT: usize = 3;
/// Longer than master_down at 0.2 s (0.6 s + skew) several times over.
const HOLD: Duration = Duration::from_secs(2);

/// VI_1 (IPv4) and VI_6 (IPv6), both VRID 51 on eth0, both with `vmac`.
fn config(priority: u8, vmac: &str) -> String {
    let instance = |name: &str, vip: &str| {
        format!(
            "vrrp_instance {name} {{\n\
             \x20   state BACKUP\n\
             \x20   interface eth0\n\
             \x20   virtual_router_id 51\n\
             \x20   version 3\n\
             \x20   priority {priority}\n\
             \x20   advert_int 0.2\n\
             {vmac}\
             \x20   virtual_ipaddress {{\n\
             \x20       {vip}\n\
             \x20   }}\n\
             }}\n"
        )
    };
    instance("VI_1", &format!("{VIP}/24")) + &instance("VI_6", &format!("{VIP6}/64"))
}

fn run_in(lan: &Lan, router: usize, args: &[&str]) -> (bool, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", lan.ns(router)])
        .args(args)
        .output()
        .expect("run a command in a namespace");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The routers whose macvlans hold the VIPs (either: a router holding
/// one of the two counts).
fn holders(lan: &Lan) -> Vec<usize> {
    [KEEPVIP, KEEPALIVED]
        .into_iter()
        .filter(|&r| {
            lan.link_up(r) && (lan.holds_vip_on(r, VMAC, VIP) || lan.holds_vip_on(r, VMAC6, VIP6))
        })
        .collect()
}

fn wait_holder(lan: &Lan, router: usize, timeout: Duration) {
    lan.wait_until(
        timeout,
        &format!("r{router} alone holds {VIP} on {VMAC} and {VIP6} on {VMAC6}"),
        || {
            holders(lan) == [router]
                && lan.holds_vip_on(router, VMAC, VIP)
                && lan.holds_vip_on(router, VMAC6, VIP6)
        },
    );
}

/// The router's IPv6 link-local address on `interface`, if it has one.
fn link_local(lan: &Lan, router: usize, interface: &str) -> Option<String> {
    let (_, out) = run_in(
        lan,
        router,
        &[
            "ip", "-6", "-o", "addr", "show", "dev", interface, "scope", "link",
        ],
    );
    let word = out
        .split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)?;
    Some(word.split('/').next()?.to_string())
}

/// The interface's MAC as `ip -d link` shows it, and its details.
fn details(lan: &Lan, router: usize, interface: &str) -> String {
    run_in(lan, router, &["ip", "-d", "link", "show", interface]).1
}

/// The client reaches the VIP (a TCP connection to a closed port is
/// refused by its holder), and its ARP entry for it is the virtual MAC.
fn client_reaches_the_virtual_mac(lan: &Lan) {
    client_reaches(lan, VIP, VIRTUAL_MAC);
}

fn client_reaches(lan: &Lan, vip: &str, virtual_mac: &str) {
    lan.wait_until(ELECTION, "the client reaches the VIP", || {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                lan.ns(CLIENT),
                "timeout",
                "2",
                "bash",
                "-c",
            ])
            .arg(format!("exec 3<>/dev/tcp/{vip}/9"))
            .output()
            .expect("run bash in the client's namespace");
        String::from_utf8_lossy(&out.stderr).contains("Connection refused")
    });
    let (_, neigh) = run_in(lan, CLIENT, &["ip", "neigh", "show", vip]);
    assert!(
        neigh.contains(&format!("lladdr {virtual_mac}")),
        "client's ARP entry for {vip}: {neigh}\n{}",
        lan.diagnose("ARP entry")
    );
}

fn sysctl(lan: &Lan, router: usize, interface: &str, key: &str) -> String {
    let path = format!("/proc/sys/net/ipv4/conf/{interface}/{key}");
    run_in(lan, router, &["cat", &path]).1.trim().to_string()
}

fn has_interface(lan: &Lan, router: usize, name: &str) -> bool {
    run_in(lan, router, &["ip", "link", "show", name]).0
}

#[test]
fn the_client_keeps_the_virtual_mac_across_failovers_with_keepalived() {
    let Some(mut lan) = Lan::new("vmac", 3) else {
        return;
    };
    // What CI pays for this test, lock wait excluded.
    let started = std::time::Instant::now();
    let use_vmac = "    use_vmac\n";
    // keepalived 2.2.7 leaves the parent's arp_announce at 0: as master it
    // would ask for the client's MAC "tell VIP" from its eth0 MAC, and the
    // client's entry would follow (keepvip sets 2; see daemon/vmac.rs).
    // Set on keepalived's host as a careful admin would.
    let (ok, _) = run_in(
        &lan,
        KEEPALIVED,
        &[
            "sh",
            "-c",
            "echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce",
        ],
    );
    assert!(ok, "set arp_announce on keepalived's host");
    // And keepalived leaves arp_ignore at 0 on VI_6's macvlan, which then
    // answers ARP for VI_1's VIP with the IPv6 virtual MAC (keepvip sets
    // 1 there). all.arp_ignore counts as the larger of the two.
    let (ok, _) = run_in(
        &lan,
        KEEPALIVED,
        &[
            "sh",
            "-c",
            "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore",
        ],
    );
    assert!(ok, "set arp_ignore on keepalived's host");

    // A macvlan with a virtual MAC left by a daemon that was killed, for a
    // VRID no longer configured: removed at start.
    let (ok, _) = run_in(
        &lan,
        KEEPVIP,
        &[
            "ip",
            "link",
            "add",
            "vrrp.77",
            "link",
            "eth0",
            "address",
            "00:00:5e:00:01:4d",
            "type",
            "macvlan",
            "mode",
            "private",
        ],
    );
    assert!(ok, "create a stale macvlan");

    // keepvip (150) and keepalived (100): keepvip is master, on its macvlan.
    lan.start(KEEPALIVED, Impl::Keepalived, &config(100, use_vmac));
    lan.start(KEEPVIP, Impl::Keepvip, &config(150, use_vmac));
    wait_holder(&lan, KEEPVIP, ELECTION);
    assert!(
        !has_interface(&lan, KEEPVIP, "vrrp.77"),
        "stale macvlan left"
    );
    // VI_1 on vrrp.51, VI_6 on vrrp6.51, each with its family's virtual
    // MAC, as keepalived (backup, so it has made both too) names them.
    for router in [KEEPVIP, KEEPALIVED] {
        for (vmac, mac) in [(VMAC, VIRTUAL_MAC), (VMAC6, VIRTUAL_MAC6)] {
            let details = details(&lan, router, vmac);
            assert!(
                details.contains(mac) && details.contains("macvlan mode private"),
                "r{router} {vmac}: {details}"
            );
        }
    }
    // keepalived's sysctls, so that only the macvlan answers for the VIP.
    for (interface, key, value) in [
        (VMAC, "arp_ignore", "1"),
        (VMAC, "accept_local", "1"),
        (VMAC, "rp_filter", "0"),
        ("eth0", "arp_ignore", "1"),
        ("eth0", "arp_filter", "1"),
        ("eth0", "arp_announce", "2"),
        (VMAC6, "arp_ignore", "1"),
    ] {
        assert_eq!(
            sysctl(&lan, KEEPVIP, interface, key),
            value,
            "{interface} {key}"
        );
    }
    // keepalived stays backup: our adverts (from the macvlan) reach it.
    lan.holds_for(HOLD, "keepvip alone holds the VIP", || {
        holders(&lan) == [KEEPVIP]
    });
    client_reaches_the_virtual_mac(&lan);
    let adverts = lan.adverts_since(common::Mark::START);
    assert!(
        adverts
            .iter()
            .any(|a| a.src_ip == lan.addr(KEEPVIP) && a.src_mac == VIRTUAL_MAC),
        "keepvip's adverts leave from the virtual MAC with its own address\n{}",
        lan.diagnose("advert source")
    );
    // VI_6's from its own macvlan, with eth0's link-local address (which
    // keepvip puts on the macvlan, as keepalived does).
    let own_link_local = link_local(&lan, KEEPVIP, "eth0").expect("eth0's link-local");
    assert_eq!(
        link_local(&lan, KEEPVIP, VMAC6).as_deref(),
        Some(own_link_local.as_str())
    );
    assert!(
        adverts
            .iter()
            .any(|a| a.src_ip.to_string() == own_link_local
                && a.src_mac == VIRTUAL_MAC6
                && a.vrid == 51),
        "keepvip's IPv6 adverts leave from {VIRTUAL_MAC6} with {own_link_local}\n{}",
        lan.diagnose("IPv6 advert source")
    );

    // keepvip dies: keepalived takes over; the client's entry is still
    // right, and the VIP answers.
    lan.kill(KEEPVIP);
    wait_holder(&lan, KEEPALIVED, ELECTION);
    client_reaches_the_virtual_mac(&lan);

    // keepvip comes back: it finds its macvlan (left by the kill), takes
    // the VIP back, and the client still reaches the same MAC.
    lan.revive(KEEPVIP);
    wait_holder(&lan, KEEPVIP, ELECTION);
    client_reaches_the_virtual_mac(&lan);

    // A reload without use_vmac: the macvlan goes, the VIP moves to eth0.
    let conf = lan
        .dir()
        .join(format!("r{KEEPVIP}"))
        .join("keepalived.conf");
    fs::write(&conf, config(150, "")).expect("write the new config");
    lan.signal(KEEPVIP, libc::SIGHUP);
    lan.wait_until(ELECTION, "the reload removed the macvlans", || {
        !has_interface(&lan, KEEPVIP, VMAC) && !has_interface(&lan, KEEPVIP, VMAC6)
    });
    lan.wait_until(ELECTION, "keepvip holds the VIPs on eth0", || {
        lan.holds_vip(KEEPVIP, VIP) && lan.holds_vip(KEEPVIP, VIP6)
    });

    // Back with use_vmac, restarted (SIGQUIT), then stopped: the macvlan
    // goes with it, keepalived takes over, and "all"'s rp_filter, lowered
    // while use_vmac ran, is what it was before, the restart between
    // (the namespace's own: the kill above left it at 0, so set it again).
    let (ok, _) = run_in(
        &lan,
        KEEPVIP,
        &["sh", "-c", "echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter"],
    );
    assert!(ok, "set all.rp_filter on keepvip's host");
    fs::write(&conf, config(150, use_vmac)).expect("write the config");
    lan.signal(KEEPVIP, libc::SIGHUP);
    wait_holder(&lan, KEEPVIP, ELECTION);
    assert_eq!(sysctl(&lan, KEEPVIP, "all", "rp_filter"), "0");
    lan.signal(KEEPVIP, libc::SIGQUIT);
    lan.wait_until(ELECTION, "SIGQUIT restarted keepvip", || {
        lan.log(KEEPVIP)
            .contains("(VI_1) resumed in MASTER after restart")
    });
    lan.stop(KEEPVIP);
    assert!(
        !has_interface(&lan, KEEPVIP, VMAC) && !has_interface(&lan, KEEPVIP, VMAC6),
        "macvlan left after exit"
    );
    assert_eq!(
        sysctl(&lan, KEEPVIP, "all", "rp_filter"),
        "2",
        "all.rp_filter restored after a restart and a stop"
    );
    wait_holder(&lan, KEEPALIVED, ELECTION);
    client_reaches_the_virtual_mac(&lan);
    eprintln!("took {:?}", started.elapsed());
}

/// `ADDR dev eth1 use_vmac` (keepalived 2.2.7): that address alone goes on
/// a macvlan of eth1 with the virtual MAC, named vrrp.VRID when the
/// instance has no macvlan of its own, with keepalived's sysctls;
/// `garp_extra_if N` without `all` announces it there every N s; the
/// macvlan goes when a reload drops `use_vmac` and when the daemon stops. keepvip (150) is master first, then
/// stops and keepalived (100) takes over: the client on eth1's LAN keeps
/// the same MAC for the address throughout.
#[test]
fn an_address_on_its_own_vmac_keeps_the_clients_mac_across_a_failover_with_keepalived() {
    const VIP_B: &str = "198.51.100.100";
    // On the same macvlan: keepalived's extra rounds name the first only.
    const VIP_B2: &str = "198.51.100.101";
    const VMAC_B: &str = "vrrp.61";
    const VIRTUAL_MAC_B: &str = "00:00:5e:00:01:3d";
    let Some(mut lan) = Lan::new("vmac-addr", 3) else {
        return;
    };
    let started = std::time::Instant::now();
    lan.add_second_lan();
    // As in the test above: keepalived leaves eth1's arp_announce at 0 and
    // would ask for the client "tell VIP" from eth1's MAC.
    let (ok, _) = run_in(
        &lan,
        KEEPALIVED,
        &[
            "sh",
            "-c",
            "echo 2 > /proc/sys/net/ipv4/conf/eth1/arp_announce",
        ],
    );
    assert!(ok, "set arp_announce on keepalived's host");
    let config = |priority: u8| {
        format!(
            "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id 61\n    version 3\n    priority {priority}\n\
             \x20   advert_int 0.2\n    garp_master_repeat 1\n    garp_master_delay 0\n\
             \x20   garp_extra_if 1\n    virtual_ipaddress {{\n\
             \x20       {VIP}/24\n        {VIP_B}/24 dev eth1 use_vmac\n\
             \x20       {VIP_B2}/24 dev eth1 use_vmac\n    }}\n}}\n"
        )
    };
    // The client is on LAN B (eth1), where the announcements go.
    let (out, err) = (lan.dir().join("eth1.txt"), lan.dir().join("eth1.err"));
    let args = [
        "-i",
        "eth1",
        "-n",
        "-e",
        "-tt",
        "-l",
        "--immediate-mode",
        "arp",
    ];
    let capture = Tcpdump::start(lan.ns(CLIENT), &args, &out, &err);
    let announced_of = |vip: &str| -> Vec<f64> {
        fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!("{VIRTUAL_MAC_B} > ff:ff:ff:ff:ff:ff")))
            .filter(|l| l.contains(&format!("who-has {vip} ")))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect()
    };
    let announced = || announced_of(VIP_B);

    lan.start(KEEPALIVED, Impl::Keepalived, &config(100));
    lan.start(KEEPVIP, Impl::Keepvip, &config(150));
    lan.wait_until(ELECTION, "keepvip holds the address on its macvlan", || {
        lan.holds_vip_on(KEEPVIP, VMAC_B, VIP_B)
            && lan.holds_vip_on(KEEPVIP, VMAC_B, VIP_B2)
            && lan.holds_vip_on(KEEPVIP, "eth0", VIP)
    });
    let (_, details) = run_in(&lan, KEEPVIP, &["ip", "-d", "link", "show", VMAC_B]);
    assert!(details.contains(&format!("{VMAC_B}@eth1")), "{details}");
    assert!(details.contains(VIRTUAL_MAC_B), "{details}");
    assert!(details.contains("macvlan mode private"), "{details}");
    for (interface, key, value) in [
        (VMAC_B, "arp_ignore", "1"),
        (VMAC_B, "accept_local", "1"),
        (VMAC_B, "rp_filter", "0"),
        ("eth1", "arp_ignore", "1"),
        ("eth1", "arp_filter", "1"),
    ] {
        assert_eq!(
            sysctl(&lan, KEEPVIP, interface, key),
            value,
            "{interface} {key}"
        );
    }
    client_reaches(&lan, VIP_B, VIRTUAL_MAC_B);
    // garp_extra_if 1: after the one packet of becoming master, one a
    // second from the macvlan, as keepalived sends them.
    let first = announced().len();
    lan.wait_until(
        ELECTION,
        "three extra-interface rounds from keepvip",
        || announced().len() >= first + 3,
    );
    let times = announced();
    for pair in times[first..first + 3].windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (0.9..1.3).contains(&gap),
            "{}",
            lan.diagnose(&format!("{VIP_B} announced {gap:.3} s apart: {times:?}"))
        );
    }
    // The second address: the burst of becoming master alone.
    let second = announced_of(VIP_B2);
    assert_eq!(
        second.len(),
        1,
        "{}",
        lan.diagnose(&format!("{VIP_B2} announced at {second:?}"))
    );

    // A reload without use_vmac on the line: the macvlan goes, the address
    // moves to eth1; back with it, back on the macvlan.
    lan.reload(KEEPVIP, &config(150).replace(" use_vmac", ""));
    lan.wait_until(ELECTION, "the reload removed the macvlan", || {
        !has_interface(&lan, KEEPVIP, VMAC_B) && lan.holds_vip_on(KEEPVIP, "eth1", VIP_B)
    });
    lan.reload(KEEPVIP, &config(150));
    lan.wait_until(ELECTION, "the address is back on its macvlan", || {
        lan.holds_vip_on(KEEPVIP, VMAC_B, VIP_B)
    });

    // keepvip stops: its macvlan goes, keepalived takes over with its own,
    // and the client's entry is still right.
    lan.stop(KEEPVIP);
    assert!(
        !has_interface(&lan, KEEPVIP, VMAC_B),
        "macvlan left after exit"
    );
    lan.wait_until(
        ELECTION,
        "keepalived holds the address on its macvlan",
        || lan.holds_vip_on(KEEPALIVED, VMAC_B, VIP_B),
    );
    client_reaches(&lan, VIP_B, VIRTUAL_MAC_B);
    capture.stop();
    eprintln!("took {:?}", started.elapsed());
}

/// `use_vmac` with `vmac_xmit_base`, keepalived 2.2.7 (r2) beside keepvip
/// (r1), each master of its own IPv4 VRID: adverts leave from the base
/// interface with its own MAC, the burst of gratuitous ARPs (2, as
/// `garp_master_repeat 2` asks) from the macvlan's virtual MAC. And an
/// IPv6 VRID (70) the two share: the master's adverts leave eth0 with
/// eth0's MAC and link-local address, its VIP sits on the macvlan (which,
/// as keepalived's, has no link-local address: nothing is sent from it
/// but the neighbour advertisements, from 00:00:5e:00:02:46), and the
/// backup hears them there; keepvip master first, then backup.
#[test]
fn vmac_xmit_base_sends_adverts_from_the_base_mac_and_garps_from_the_vmac_as_keepalived() {
    const VIP6: &str = "2001:db8::70";
    const VMAC6: &str = "vrrp.70";
    const VIRTUAL_MAC6: &str = "00:00:5e:00:02:46";
    let Some(mut lan) = Lan::new("vmac-xmit-base", 2) else {
        return;
    };
    let config = |router: usize, priority6: u8| {
        format!(
            "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id 7{router}\n    version 3\n    priority 100\n\
             \x20   advert_int 0.2\n    use_vmac\n    vmac_xmit_base\n\
             \x20   garp_master_repeat 2\n    garp_master_delay 0\n\
             \x20   virtual_ipaddress {{\n        192.0.2.10{router}/24\n    }}\n}}\n\
             vrrp_instance VI_6 {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id 70\n    version 3\n    priority {priority6}\n\
             \x20   advert_int 0.2\n    use_vmac\n    vmac_xmit_base\n\
             \x20   garp_master_repeat 2\n    garp_master_delay 0\n\
             \x20   virtual_ipaddress {{\n        {VIP6}/64\n    }}\n}}\n"
        )
    };
    lan.start(KEEPALIVED, Impl::Keepalived, &config(KEEPALIVED, 100));
    lan.start(KEEPVIP, Impl::Keepvip, &config(KEEPVIP, 150));
    let virtual_mac = |router: usize| format!("00:00:5e:00:01:{:02x}", 70 + router);
    let garps = |router: usize| -> Vec<(f64, String)> {
        let vip = format!("192.0.2.10{router}");
        lan.announcements_since(common::Mark::START)
            .into_iter()
            .filter(|(_, _, address)| *address == vip)
            .map(|(time, mac, _)| (time, mac))
            .collect()
    };
    for router in [KEEPALIVED, KEEPVIP] {
        lan.wait_until(
            ELECTION,
            &format!("r{router}'s burst of two is captured"),
            || garps(router).len() >= 2,
        );
    }
    // A last advert after the burst, so the whole burst is in.
    let since = lan.mark();
    lan.wait_until(ELECTION, "adverts after the bursts", || {
        lan.adverts_since(since).len() >= 4
    });
    for router in [KEEPALIVED, KEEPVIP] {
        let macs: Vec<String> = garps(router).into_iter().map(|(_, mac)| mac).collect();
        assert_eq!(
            macs,
            [virtual_mac(router), virtual_mac(router)],
            "{}",
            lan.diagnose(&format!(
                "r{router}: gratuitous ARPs not from the virtual MAC"
            ))
        );
        let adverts: Vec<_> = lan
            .adverts_since(common::Mark::START)
            .into_iter()
            .filter(|a| a.vrid == 70 + router as u8)
            .collect();
        assert!(
            !adverts.is_empty()
                && adverts
                    .iter()
                    .all(|a| a.src_mac == lan.mac(router) && a.src_ip == lan.addr(router)),
            "{}",
            lan.diagnose(&format!(
                "r{router}: adverts not all from eth0's MAC and address: {adverts:?}"
            ))
        );
    }

    // VRID 70 over IPv6: keepvip (150) master, keepalived (100) backup
    // for a while, so keepvip's adverts reach it.
    let sole_holder_of_vip6 = |lan: &Lan, router: usize, other: usize| {
        lan.holds_vip_on(router, VMAC6, VIP6) && !lan.holds_vip_on(other, VMAC6, VIP6)
    };
    lan.wait_until(ELECTION, "keepvip alone holds the IPv6 VIP", || {
        sole_holder_of_vip6(&lan, KEEPVIP, KEEPALIVED)
    });
    let since = lan.mark();
    lan.holds_for(
        Duration::from_secs(1),
        "keepvip alone holds the IPv6 VIP",
        || sole_holder_of_vip6(&lan, KEEPVIP, KEEPALIVED),
    );
    // Each router's adverts of VRID 70 since `mark`, at its priority.
    let adverts6 = |lan: &Lan, mark: common::Mark, priority: u8| -> Vec<common::Advert> {
        lan.adverts_since(mark)
            .into_iter()
            .filter(|a| a.vrid == 70 && a.priority == priority)
            .collect()
    };
    let from_base = |lan: &Lan, router: usize, adverts: &[common::Advert]| {
        let base = link_local(lan, router, "eth0").expect("eth0's link-local");
        !adverts.is_empty()
            && adverts
                .iter()
                .all(|a| a.src_mac == lan.mac(router) && a.src_ip.to_string() == base)
    };
    lan.wait_until(ELECTION, "keepvip's IPv6 adverts are captured", || {
        adverts6(&lan, since, 150).len() >= 3
    });
    let adverts = adverts6(&lan, since, 150);
    assert!(
        from_base(&lan, KEEPVIP, &adverts),
        "{}",
        lan.diagnose(&format!(
            "keepvip's IPv6 adverts not all from eth0's MAC and link-local: {adverts:?}"
        ))
    );
    for router in [KEEPVIP, KEEPALIVED] {
        let details = details(&lan, router, VMAC6);
        assert!(details.contains(VIRTUAL_MAC6), "r{router}: {details}");
        assert_eq!(
            link_local(&lan, router, VMAC6),
            None,
            "r{router}: a link-local address on {VMAC6}"
        );
    }
    let announced: Vec<String> = lan
        .announcements_since(common::Mark::START)
        .into_iter()
        .filter(|(_, _, address)| address == VIP6)
        .map(|(_, mac, _)| mac)
        .collect();
    assert!(
        !announced.is_empty() && announced.iter().all(|mac| mac == VIRTUAL_MAC6),
        "{}",
        lan.diagnose(&format!("{VIP6} announced from {announced:?}"))
    );

    // keepvip stops; keepalived takes over, and keepvip, back at 50,
    // stays backup: it hears keepalived's adverts, from eth0 too.
    lan.stop(KEEPVIP);
    lan.start(KEEPVIP, Impl::Keepvip, &config(KEEPVIP, 50));
    lan.wait_until(ELECTION, "keepalived alone holds the IPv6 VIP", || {
        sole_holder_of_vip6(&lan, KEEPALIVED, KEEPVIP)
    });
    // Held from the restarted keepvip's first BACKUP (its second in the
    // log), past its master_down (0.6 s + skew).
    lan.wait_until(ELECTION, "the restarted keepvip is backup", || {
        lan.log(KEEPVIP)
            .matches("(VI_6) Entering BACKUP STATE")
            .count()
            >= 2
    });
    let since = lan.mark();
    lan.holds_for(
        Duration::from_secs(1),
        "keepalived alone holds the IPv6 VIP",
        || sole_holder_of_vip6(&lan, KEEPALIVED, KEEPVIP),
    );
    let adverts = adverts6(&lan, since, 100);
    assert!(
        from_base(&lan, KEEPALIVED, &adverts),
        "{}",
        lan.diagnose(&format!(
            "keepalived's IPv6 adverts not all from eth0's MAC and link-local: {adverts:?}"
        ))
    );
}

/// A reload adding an IPv4 instance above a running IPv6 one of the same
/// VRID keeps the running macvlan's name, as keepalived 2.2.7 does
/// (watched): the IPv6 instance stays master on vrrp.51 with its MAC and
/// address, none removed, and the new one takes the first free name,
/// vrrp1.51. (Named by file order it would want vrrp.51, which exists
/// with the IPv6 MAC: the reload was refused.) `keepvip restart` then
/// keeps both names though the new image loads the file from scratch
/// (the restart state carries them). Killed and started again, it takes
/// the macvlans it left under their names, as keepalived does (watched:
/// "Found matching interface vrrp1.51"); stopped and started, it names by
/// file order again (vrrp.51, vrrp6.51), as keepalived does. keepvip
/// alone, master.
#[test]
fn a_reload_keeps_the_names_of_running_macvlans_as_keepalived() {
    let Some(mut lan) = Lan::new("vmac-reload", 1) else {
        return;
    };
    let both = config(150, "    use_vmac\n");
    let v6_only = &both[both.find("vrrp_instance VI_6").expect("VI_6")..];
    lan.start(KEEPVIP, Impl::Keepvip, v6_only);
    lan.wait_until(ELECTION, "the IPv6 address on vrrp.51", || {
        lan.holds_vip_on(KEEPVIP, VMAC, VIP6)
    });
    assert!(details(&lan, KEEPVIP, VMAC).contains(VIRTUAL_MAC6));
    let monitor = AddressMonitor::start(&lan, KEEPVIP);
    lan.reload(KEEPVIP, &both);
    lan.wait_until(ELECTION, "the IPv4 address on vrrp1.51", || {
        lan.holds_vip_on(KEEPVIP, "vrrp1.51", VIP)
    });
    assert!(details(&lan, KEEPVIP, "vrrp1.51").contains(VIRTUAL_MAC));
    assert!(details(&lan, KEEPVIP, VMAC).contains(VIRTUAL_MAC6));
    assert!(lan.holds_vip_on(KEEPVIP, VMAC, VIP6));
    assert!(!has_interface(&lan, KEEPVIP, VMAC6));
    assert_eq!(monitor.deleted(VIP6), Vec::<String>::new());
    assert!(
        lan.log(KEEPVIP).contains("Reload complete"),
        "{}",
        lan.diagnose("the reload was not applied")
    );

    let socket = lan.log_path(KEEPVIP).with_file_name("status.sock");
    let restart = Command::new(env!("CARGO_BIN_EXE_keepvip"))
        .args(["restart", "--wait", "5", "--socket"])
        .arg(&socket)
        .output()
        .expect("run keepvip restart");
    assert!(
        restart.status.success(),
        "{}",
        lan.diagnose(&format!(
            "keepvip restart: {}",
            String::from_utf8_lossy(&restart.stderr)
        ))
    );
    assert!(lan.holds_vip_on(KEEPVIP, VMAC, VIP6));
    assert!(lan.holds_vip_on(KEEPVIP, "vrrp1.51", VIP));
    assert!(!has_interface(&lan, KEEPVIP, VMAC6));
    assert_eq!(monitor.deleted(VIP6), Vec::<String>::new());
    assert_eq!(monitor.deleted(VIP), Vec::<String>::new());
    drop(monitor);

    let on_kept_names = |lan: &Lan| {
        lan.holds_vip_on(KEEPVIP, VMAC, VIP6) && lan.holds_vip_on(KEEPVIP, "vrrp1.51", VIP)
    };
    // (The log holds every start's lines.)
    let count = |lan: &Lan, line: &str| lan.log(KEEPVIP).matches(line).count();
    let found = "(VI_1) Found matching interface vrrp1.51";
    let master = "(VI_6) Entering MASTER STATE";
    let (found_before, master_before) = (count(&lan, found), count(&lan, master));
    lan.kill(KEEPVIP);
    lan.revive(KEEPVIP);
    lan.wait_until(ELECTION, "master again on the macvlans left", || {
        count(&lan, found) > found_before
            && count(&lan, master) > master_before
            && on_kept_names(&lan)
    });
    assert!(lan.running(KEEPVIP), "{}", lan.diagnose("not running"));

    lan.stop(KEEPVIP);
    lan.start(KEEPVIP, Impl::Keepvip, &both);
    lan.wait_until(ELECTION, "file order again after a stop", || {
        lan.holds_vip_on(KEEPVIP, VMAC, VIP) && lan.holds_vip_on(KEEPVIP, VMAC6, VIP6)
    });
}
