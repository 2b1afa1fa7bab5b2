//! What a master owns beyond its plain VIPs, on a namespace LAN: address
//! options as keepalived writes them (`label`, `scope`, `brd`, `no_track`)
//! and keepalived's tracking of the interfaces its addresses are on.
//!
//! Needs root (network namespaces) and tcpdump. Set KEEPVIP_SKIP_NETNS=1
//! to skip explicitly where that is impossible.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Impl, Lan, ELECTION};

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
