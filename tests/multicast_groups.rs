//! A multicast group other than the RFC's (`vrrp_mcast_group4`/`6`,
//! `mcast_dst_ip`) on a namespace LAN, keepvip beside keepalived 2.2.7 in
//! both roles, and a keepalived router of the same VRIDs on the RFC's group
//! that neither hears nor is heard.
//!
//! What keepalived 2.2.7 was seen doing: it joins only its configured
//! group (IGMP/MLD reports for 224.0.0.99 / ff02::99, none for the RFC's),
//! sends there with TTL (hop limit) 255, and ignores adverts of its VRID
//! sent to 224.0.0.18 even when its host has joined that group for another
//! instance.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::Duration;

use common::{Impl, Lan, CAPTURE_LAG, ELECTION};

const KEEPVIP: usize = 1;
const KEEPALIVED: usize = 2;
/// On the RFC's group, with the same VRIDs.
const STANDARD: usize = 3;
const VIP4: &str = "192.0.2.100";
const VIP6: &str = "2001:db8::100";
const VIP4_B: &str = "192.0.2.104";
const VIP6_B: &str = "2001:db8::104";
const STANDARD_VIP4: &str = "192.0.2.103";
const STANDARD_VIP6: &str = "2001:db8::103";
/// keepvip's instance on the RFC's group: its host then takes adverts sent
/// to 224.0.0.18, which its custom-group instance of VRID 70 must ignore.
const OWN_STANDARD_VIP: &str = "192.0.2.102";

fn instance(name: &str, vrid: u8, priority: u8, vip: &str, extra: &str) -> String {
    let prefix = if vip.contains(':') { 64 } else { 24 };
    format!(
        "vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n\
         \x20   priority {priority}\n    version 3\n    advert_int 0.2\n{extra}\
         \x20   virtual_ipaddress {{\n        {vip}/{prefix}\n    }}\n}}\n"
    )
}

/// VRID 70 and 73 (IPv4), 71 and 74 (IPv6) on 224.0.0.99 / ff02::99, the
/// router that is `first` the higher in 70 and 74, the other in 71 and 73.
fn custom_group(first: bool) -> String {
    let (high, low) = if first { (150, 100) } else { (100, 150) };
    format!(
        "global_defs {{\n    vrrp_mcast_group4 224.0.0.99\n    vrrp_mcast_group6 ff02::99\n}}\n\
         {}{}{}{}",
        instance("V4", 70, high, VIP4, ""),
        instance("V6", 71, low, VIP6, ""),
        instance("V4_B", 73, low, VIP4_B, ""),
        instance("V6_B", 74, high, VIP6_B, "")
    )
}

/// The VRRP adverts in `capture` for `vrid`, as (Ethernet source,
/// IP destination).
fn advert_ends(capture: &str, vrid: u8) -> Vec<(String, String)> {
    let tag = format!("vrid {vrid},");
    capture
        .lines()
        .filter(|l| l.contains(": VRRPv3, Advertisement") && l.contains(&tag))
        .filter_map(|l| {
            // "TIME MAC > MAC, ... length 46: 192.0.2.11 > 224.0.0.99: VRRPv3, ..."
            let mac = l.split_whitespace().nth(1)?;
            let ends = l.split(": VRRPv3").next()?.rsplit(": ").next()?;
            let (_, destination) = ends.trim().split_once(" > ")?;
            Some((mac.to_string(), destination.to_string()))
        })
        .collect()
}

/// keepvip and keepalived on 224.0.0.99 / ff02::99, in each family one
/// instance with keepvip the higher and one with keepalived the higher:
/// each hears the other (the lower stays backup), and each takes over when
/// the other dies. A
/// keepalived router on the RFC's group, lower still, stays master of its
/// own addresses: it hears neither. keepvip counts its adverts to
/// 224.0.0.18 as not_to_group. Every advert of ours is sent to the group
/// with TTL (hop limit) 255, as keepalived's are.
#[test]
fn custom_group_fails_over_both_ways_with_keepalived() {
    let Some(mut lan) = Lan::new("mcast-group", 3) else {
        return;
    };
    let standard = format!(
        "{}{}",
        instance("V4", 70, 50, STANDARD_VIP4, ""),
        instance("V6", 71, 50, STANDARD_VIP6, "")
    );
    lan.start(STANDARD, Impl::Keepalived, &standard);
    lan.start(KEEPALIVED, Impl::Keepalived, &custom_group(false));
    let own_standard = instance(
        "V_STD",
        72,
        150,
        OWN_STANDARD_VIP,
        "    mcast_dst_ip 224.0.0.18\n",
    );
    lan.start(
        KEEPVIP,
        Impl::Keepvip,
        &format!("{}{own_standard}", custom_group(true)),
    );
    lan.wait_sole_holder(KEEPVIP, VIP4, ELECTION);
    lan.wait_sole_holder(KEEPALIVED, VIP6, ELECTION);
    lan.wait_sole_holder(KEEPALIVED, VIP4_B, ELECTION);
    lan.wait_sole_holder(KEEPVIP, VIP6_B, ELECTION);
    lan.wait_sole_holder(KEEPVIP, OWN_STANDARD_VIP, ELECTION);
    lan.wait_sole_holder(STANDARD, STANDARD_VIP4, ELECTION);
    lan.wait_sole_holder(STANDARD, STANDARD_VIP6, ELECTION);
    // Five advert intervals and more than a master_down interval (0.6 s
    // plus skew): the lower of each pair heard the higher throughout, and
    // the router on the RFC's group heard neither.
    lan.holds_for(Duration::from_millis(1500), "the masters stay", || {
        lan.sole_holder(KEEPVIP, VIP4)
            && lan.sole_holder(KEEPALIVED, VIP6)
            && lan.sole_holder(KEEPALIVED, VIP4_B)
            && lan.sole_holder(KEEPVIP, VIP6_B)
            && lan.sole_holder(STANDARD, STANDARD_VIP4)
            && lan.sole_holder(STANDARD, STANDARD_VIP6)
    });
    let dropped = lan.keepvip_stats(KEEPVIP)["discarded_not_to_group"];
    assert!(
        dropped > 0,
        "keepvip counted no advert to 224.0.0.18 as not_to_group"
    );

    let verbose = lan.verbose_capture(Duration::from_millis(600));
    let ours = "192.0.2.11 > 224.0.0.99: VRRPv3";
    let ttl = verbose
        .lines()
        .zip(verbose.lines().skip(1))
        .find(|(_, next)| next.contains(ours));
    assert!(
        ttl.is_some_and(|(header, _)| header.contains("ttl 255")),
        "no IPv4 advert of keepvip to 224.0.0.99 with TTL 255:\n{verbose}"
    );
    // IPv6: "IP6 (... hlim 255, ...) fe80::... > ff02::99: VRRPv3, ..."
    // from both masters (VRIDs 71 and 74).
    let to_group6: Vec<&str> = verbose
        .lines()
        .filter(|l| l.contains(" > ff02::99: VRRPv3"))
        .collect();
    let sources: std::collections::BTreeSet<&str> = to_group6
        .iter()
        .filter_map(|l| l.split(" > ff02::99").next()?.rsplit(' ').next())
        .collect();
    assert!(
        sources.len() == 2 && to_group6.iter().all(|l| l.contains("hlim 255,")),
        "IPv6 adverts to ff02::99 not from both masters, or not at hop limit 255:\n{verbose}"
    );

    // keepvip dies: keepalived takes IPv4 over; keepvip comes back and
    // takes it back (keepalived, the lower, hears it and yields).
    lan.kill(KEEPVIP);
    lan.wait_sole_holder(KEEPALIVED, VIP4, ELECTION);
    lan.revive(KEEPVIP);
    lan.wait_sole_holder(KEEPVIP, VIP4, ELECTION);
    // keepalived dies: keepvip takes IPv6 over, and VRID 73, where it
    // may not have sent an advert before.
    lan.kill(KEEPALIVED);
    lan.wait_sole_holder(KEEPVIP, VIP6, ELECTION);
    lan.wait_sole_holder(KEEPVIP, VIP4_B, ELECTION);
    assert!(lan.sole_holder(STANDARD, STANDARD_VIP4));
    assert!(lan.sole_holder(STANDARD, STANDARD_VIP6));

    let expected_senders = [
        (70, "224.0.0.99", "224.0.0.18"),
        (71, "ff02::99", "ff02::12"),
        (73, "224.0.0.99", ""),
        (74, "ff02::99", ""),
    ]
    .map(|(vrid, group, standard)| {
        let senders = if standard.is_empty() {
            &[KEEPVIP, KEEPALIVED][..]
        } else {
            &[KEEPVIP, KEEPALIVED, STANDARD][..]
        };
        (vrid, group, standard, senders)
    });
    let capture = || std::fs::read_to_string(lan.dir().join("capture.txt")).unwrap_or_default();
    // The last takeover's adverts may still be on their way to the file.
    lan.wait_until(CAPTURE_LAG, "every router's adverts are captured", || {
        let capture = capture();
        expected_senders.iter().all(|(vrid, _, _, senders)| {
            let ends = advert_ends(&capture, *vrid);
            senders
                .iter()
                .all(|&router| ends.iter().any(|e| e.0 == lan.mac(router)))
        })
    });
    let capture = capture();
    for (vrid, group, standard, senders) in expected_senders {
        let ends = advert_ends(&capture, vrid);
        for &router in senders {
            let expected = if router == STANDARD { standard } else { group };
            let mac = lan.mac(router);
            let sent: Vec<&String> = ends.iter().filter(|e| e.0 == mac).map(|e| &e.1).collect();
            assert!(
                !sent.is_empty() && sent.iter().all(|d| *d == expected),
                "r{router}'s adverts of VRID {vrid} went to {sent:?}, expected {expected} only"
            );
        }
    }
}
