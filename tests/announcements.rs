//! When a master announces its addresses (gratuitous ARP for IPv4,
//! unsolicited neighbour advertisements for IPv6), on a namespace LAN:
//! on becoming master, only once the addresses are there; and when it
//! hears a lower-priority master after a partition heals, at once, as
//! keepalived 2.2.7 does (`garp_lower_prio_repeat`); bursts spaced by
//! `vrrp_garp_interval` / `vrrp_gna_interval`, and `garp_extra_if all`'s
//! periodic announcements on other interfaces, next to keepalived's,
//! also when a reload turns it on for a master.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::Impl::{Keepalived, Keepvip};
use common::{Lan, Mark, Tcpdump, ELECTION};

const VIP4: &str = "192.0.2.100";
const VIP6: &str = "2001:db8::100";
const VRID4: u8 = 50;
const VRID6: u8 = 51;
const R1: usize = 1;
const R2: usize = 2;
/// What the announcements must keep to: the first within a second.
const PROMPT: f64 = 1.0;

/// One IPv4 and one IPv6 instance, VRRPv3 at 0.1 s, and `extra` lines.
fn config(priority: u8, extra: &str) -> String {
    let instance = |name: &str, vrid: u8, vip: &str| {
        format!(
            "vrrp_instance {name} {{\n\
             \x20   state BACKUP\n\
             \x20   interface eth0\n\
             \x20   virtual_router_id {vrid}\n\
             \x20   priority {priority}\n\
             \x20   advert_int 0.1\n\
             {extra}\
             \x20   virtual_ipaddress {{\n        {vip}\n    }}\n\
             }}\n"
        )
    };
    format!(
        "global_defs {{\n    vrrp_version 3\n}}\n{}{}",
        instance("VI_4", VRID4, &format!("{VIP4}/24")),
        instance("VI_6", VRID6, &format!("{VIP6}/64"))
    )
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The capture time of `router`'s first advert for `vrid` after `since`.
fn first_advert(lan: &Lan, router: usize, vrid: u8, since: Mark) -> Option<f64> {
    lan.adverts_since(since)
        .into_iter()
        .find(|a| a.vrid == vrid && a.src_mac == lan.mac(router))
        .map(|a| a.time)
}

/// Waits until `router` has announced `vip` since `since`; returns when.
fn first_announcement(lan: &Lan, router: usize, vip: &str, since: Mark) -> f64 {
    lan.wait_until(ELECTION, &format!("r{router} announces {vip}"), || {
        !lan.garp_times_since(router, vip, since).is_empty()
    });
    lan.garp_times_since(router, vip, since)[0]
}

/// Where `needle` first appears in `log`, or a panic that shows the log.
fn position(lan: &Lan, log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{}", lan.diagnose(&format!("no {needle:?} in r1's log"))))
}

#[test]
fn a_new_master_adds_its_addresses_then_announces_them_at_once() {
    let Some(mut lan) = Lan::new("announce-order", 1) else {
        return;
    };
    lan.start(R1, Keepvip, &config(100, ""));
    for vip in [VIP4, VIP6] {
        lan.wait_sole_holder(R1, vip, ELECTION);
    }
    for (vrid, vip) in [(VRID4, VIP4), (VRID6, VIP6)] {
        let announced = first_announcement(&lan, R1, vip, Mark::START);
        let advert = first_advert(&lan, R1, vrid, Mark::START)
            .unwrap_or_else(|| panic!("{}", lan.diagnose(&format!("no advert for VRID {vrid}"))));
        // The first burst, not the one garp_master_delay (5 s) later: an
        // NA sent before its address was added is refused by the kernel.
        assert!(
            (0.0..PROMPT).contains(&(announced - advert)),
            "{}",
            lan.diagnose(&format!(
                "{vip} first announced {:.3} s after the first advert, not within {PROMPT} s \
                 (and not before it)",
                announced - advert
            ))
        );
    }
    // keepalived's log order: state, addresses, announcements.
    let log = lan.log(R1);
    for (name, vip, what) in [
        ("VI_4", VIP4, "gratuitous ARPs"),
        ("VI_6", VIP6, "Unsolicited Neighbour Adverts"),
    ] {
        let entering = position(&lan, &log, &format!("({name}) Entering MASTER STATE"));
        let setting = position(&lan, &log, &format!("({name}) setting VIPs."));
        let sending = position(
            &lan,
            &log,
            &format!("({name}) Sending/queueing {what} on eth0 for {vip}"),
        );
        assert!(
            entering < setting && setting < sending,
            "{}",
            lan.diagnose(&format!("{name}: log lines out of keepalived's order"))
        );
    }
}

#[test]
fn a_master_hearing_a_lower_master_after_a_partition_announces_at_once() {
    let Some(mut lan) = Lan::new("announce-lower", 2) else {
        return;
    };
    // No second burst 5 s after becoming master: it could fall just after
    // the heal and pass for the answer to the lower master.
    let no_delayed_burst = "    garp_master_delay 0\n";
    lan.start(R1, Keepvip, &config(150, no_delayed_burst));
    for vip in [VIP4, VIP6] {
        lan.wait_sole_holder(R1, vip, ELECTION);
    }
    lan.start(R2, Keepalived, &config(100, no_delayed_burst));
    // Partitioned (multicast cut both ways), the keepalived backup becomes
    // a second master.
    lan.set_mcast_flood(R1, false);
    lan.set_mcast_flood(R2, false);
    lan.wait_until(ELECTION, "r2 (partitioned) is master too", || {
        lan.holds_vip(R2, VIP4) && lan.holds_vip(R2, VIP6)
    });
    // Healed towards r1 first: r1 hears r2's lower priority (healed both
    // ways at once, r2 may hear r1 first and go quiet, and r1 then has
    // nothing to answer). Hosts that learned r2's MAC meanwhile must be
    // pointed back at r1 at once.
    let healed = lan.mark();
    let healed_at = now();
    lan.set_mcast_flood(R1, true);
    for vip in [VIP4, VIP6] {
        let announced = first_announcement(&lan, R1, vip, healed);
        assert!(
            announced - healed_at < PROMPT,
            "{}",
            lan.diagnose(&format!(
                "r1 announced {vip} {:.3} s after the heal, not within {PROMPT} s",
                announced - healed_at
            ))
        );
    }
    assert!(
        lan.log(R1)
            .contains("with lower priority 100, ours 150, forcing new election"),
        "{}",
        lan.diagnose("r1 did not log the lower-priority advert")
    );
    // Healed both ways: r2 hears r1 and gives the addresses back.
    lan.set_mcast_flood(R2, true);
    for vip in [VIP4, VIP6] {
        lan.wait_sole_holder(R1, vip, ELECTION);
    }
}

/// Global `vrrp_garp_interval 0.05` / `vrrp_gna_interval 0.03` and a
/// burst of 5: `vips` (IPv4) in one instance, `vip6` in another.
fn spaced_config(vrids: (u8, u8), vips: [&str; 2], vip6: &str) -> String {
    let instance = |name: &str, vrid: u8, addresses: String| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id {vrid}\n    priority 100\n    advert_int 0.1\n\
             \x20   garp_master_repeat 5\n    garp_master_delay 0\n\
             \x20   virtual_ipaddress {{\n{addresses}    }}\n}}\n"
        )
    };
    format!(
        "global_defs {{\n    vrrp_version 3\n    vrrp_garp_interval 0.05\n\
         \x20   vrrp_gna_interval 0.03\n}}\n{}{}",
        instance(
            "VI_4",
            vrids.0,
            format!("        {}/24\n        {}/24\n", vips[0], vips[1])
        ),
        instance("VI_6", vrids.1, format!("        {vip6}/64\n"))
    )
}

/// `router`'s announcements since `since`, of one family: (time, address).
fn announcements_of(lan: &Lan, router: usize, ipv6: bool, since: Mark) -> Vec<(f64, String)> {
    lan.announcements_since(since)
        .into_iter()
        .filter(|(_, mac, addr)| mac == lan.mac(router) && addr.contains(':') == ipv6)
        .map(|(time, _, addr)| (time, addr))
        .collect()
}

/// keepalived 2.2.7 (r2) and keepvip (r1), each master of its own
/// instances with the same spacing config, side by side on one LAN: the
/// same bursts on the wire. keepalived sends the first packet at once and
/// the rest one interval apart per interface and family, and does not
/// queue an address twice: a burst of 5 for addresses A and B is A, A, B;
/// for one IPv6 address two NAs. keepvip must send exactly that, with the
/// same spacing.
#[test]
fn bursts_are_spaced_by_garp_and_gna_interval_as_keepalived() {
    let Some(mut lan) = Lan::new("announce-spacing", 2) else {
        return;
    };
    lan.start(
        R2,
        Keepalived,
        &spaced_config((52, 53), ["192.0.2.110", "192.0.2.111"], "2001:db8::110"),
    );
    lan.start(
        R1,
        Keepvip,
        &spaced_config((54, 55), ["192.0.2.100", "192.0.2.101"], "2001:db8::100"),
    );
    let expected = |router: usize| {
        let (a, b, six) = if router == R1 {
            ("192.0.2.100", "192.0.2.101", "2001:db8::100")
        } else {
            ("192.0.2.110", "192.0.2.111", "2001:db8::110")
        };
        (vec![a, a, b], vec![six, six])
    };
    for router in [R2, R1] {
        let (arps, nas) = expected(router);
        lan.wait_until(
            ELECTION,
            &format!("r{router}'s bursts are captured"),
            || {
                announcements_of(&lan, router, false, Mark::START).len() >= arps.len()
                    && announcements_of(&lan, router, true, Mark::START).len() >= nas.len()
            },
        );
    }
    // Nothing more comes (garp_master_delay 0: no second burst).
    lan.holds_for(
        std::time::Duration::from_millis(400),
        "no announcement beyond the bursts",
        || {
            [R2, R1].iter().all(|&router| {
                let (arps, nas) = expected(router);
                announcements_of(&lan, router, false, Mark::START).len() == arps.len()
                    && announcements_of(&lan, router, true, Mark::START).len() == nas.len()
            })
        },
    );
    for router in [R2, R1] {
        let (arps, nas) = expected(router);
        for (ipv6, addresses, interval) in [(false, &arps, 0.05), (true, &nas, 0.03)] {
            let sent = announcements_of(&lan, router, ipv6, Mark::START);
            let order: Vec<&str> = sent.iter().map(|(_, a)| a.as_str()).collect();
            assert_eq!(
                &order,
                addresses,
                "{}",
                lan.diagnose(&format!("r{router}: not the burst keepalived sends"))
            );
            for pair in sent.windows(2) {
                let gap = pair[1].0 - pair[0].0;
                assert!(
                    (interval - 0.003..interval + 0.045).contains(&gap),
                    "{}",
                    lan.diagnose(&format!(
                        "r{router}: {gap:.4} s between two announcements, not {interval} s"
                    ))
                );
            }
        }
    }
}

/// Addresses on eth0 and (`dev eth1`) on a side link, both families;
/// `vrrp_garp_extra_if all 1` in global_defs, and the instance form in the
/// IPv6 instance.
fn extra_if_config(vrids: (u8, u8), n: u8) -> String {
    let instance = |name: &str, vrid: u8, extra: &str, addresses: String| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id {vrid}\n    priority 100\n    advert_int 0.1\n\
             \x20   garp_master_repeat 1\n    garp_master_delay 0\n{extra}\
             \x20   virtual_ipaddress {{\n{addresses}    }}\n}}\n"
        )
    };
    format!(
        "global_defs {{\n    vrrp_version 3\n    vrrp_garp_extra_if all 1\n}}\n{}{}",
        instance(
            "VI_4",
            vrids.0,
            "",
            format!("        192.0.2.10{n}/24\n        198.51.100.10{n}/24 dev eth1\n")
        ),
        instance(
            "VI_6",
            vrids.1,
            "    garp_extra_if all 1\n",
            format!("        2001:db8::10{n}/64\n        2001:db8:1::10{n}/64 dev eth1\n")
        )
    )
}

/// Capture times of announcements (gratuitous ARP, unsolicited NA) of
/// `address` in a tcpdump -tt output.
fn announced_at(capture: &str, address: &str) -> Vec<f64> {
    capture
        .lines()
        .filter(|l| {
            l.contains(&format!("who-has {address} ")) || l.contains(&format!("tgt is {address},"))
        })
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// `garp_extra_if all 1`, keepalived 2.2.7 (r2) beside keepvip (r1), each
/// master of its own instances: after the burst of becoming master, one
/// gratuitous ARP (NA) a second for each address on eth1, the first a
/// second after the burst, and none on eth0, the instances' interface.
#[test]
fn garp_extra_if_all_repeats_announcements_on_other_interfaces_as_keepalived() {
    let Some(mut lan) = Lan::new("announce-extra-if", 2) else {
        return;
    };
    let mut captures = Vec::new();
    for router in [R1, R2] {
        lan.add_side_link(router, "eth1", Some(&format!("198.51.100.{router}/24")));
        let (out, err) = (
            lan.dir().join(format!("r{router}-eth1p.txt")),
            lan.dir().join(format!("r{router}-eth1p.err")),
        );
        let args = ["-i", "eth1p", "-n", "-tt", "-l", "--immediate-mode"];
        let args = [&args[..], &["arp or (icmp6 and ip6[40] == 136)"]].concat();
        captures.push((Tcpdump::start(lan.ns(router), &args, &out, &err), out));
    }
    lan.start(R2, Keepalived, &extra_if_config((56, 57), 2));
    lan.start(R1, Keepvip, &extra_if_config((58, 59), 1));
    let eth1_addresses = |router: usize| {
        [
            format!("198.51.100.10{router}"),
            format!("2001:db8:1::10{router}"),
        ]
    };
    let capture =
        |router: usize| std::fs::read_to_string(&captures[router - 1].1).unwrap_or_default();
    for router in [R2, R1] {
        lan.wait_until(
            ELECTION,
            &format!("r{router}: the burst and two more rounds on eth1"),
            || {
                eth1_addresses(router)
                    .iter()
                    .all(|a| announced_at(&capture(router), a).len() >= 3)
            },
        );
    }
    for router in [R2, R1] {
        for address in eth1_addresses(router) {
            let times = announced_at(&capture(router), &address);
            for pair in times[..3].windows(2) {
                let gap = pair[1] - pair[0];
                assert!(
                    (0.95..1.3).contains(&gap),
                    "{}",
                    lan.diagnose(&format!(
                        "r{router}: {address} announced on eth1 {gap:.3} s apart, not every 1 s: {times:?}"
                    ))
                );
            }
        }
        // On the instances' own interface, the burst alone.
        for address in [
            format!("192.0.2.10{router}"),
            format!("2001:db8::10{router}"),
        ] {
            let times = lan.garp_times_since(router, &address, Mark::START);
            assert_eq!(
                times.len(),
                1,
                "{}",
                lan.diagnose(&format!("r{router}: {address} announced on eth0 {times:?}"))
            );
        }
    }
    for (tcpdump, _) in captures {
        tcpdump.stop();
    }
}

/// A reload (SIGHUP) that turns `garp_extra_if all 2` on for an instance
/// that is already master: keepalived 2.2.7 (r2) and keepvip (r1) each
/// announce their eth1 address at once (within a second of the signal,
/// well before the 2 s repeat) and again 2 s later, not only from the next transition.
#[test]
fn a_reload_turning_garp_extra_if_on_for_a_master_announces_at_once_as_keepalived() {
    let Some(mut lan) = Lan::new("announce-extra-reload", 2) else {
        return;
    };
    let config = |router: usize, vrid: u8, extra: &str| {
        format!(
            "vrrp_instance VI_4 {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id {vrid}\n    version 3\n    priority 100\n\
             \x20   advert_int 0.1\n    garp_master_repeat 1\n    garp_master_delay 0\n{extra}\
             \x20   virtual_ipaddress {{\n        192.0.2.10{router}/24\n\
             \x20       198.51.100.10{router}/24 dev eth1\n    }}\n}}\n"
        )
    };
    let mut captures = Vec::new();
    for router in [R1, R2] {
        lan.add_side_link(router, "eth1", Some(&format!("198.51.100.{router}/24")));
        let (out, err) = (
            lan.dir().join(format!("r{router}-eth1p.txt")),
            lan.dir().join(format!("r{router}-eth1p.err")),
        );
        let args = ["-i", "eth1p", "-n", "-tt", "-l", "--immediate-mode", "arp"];
        captures.push((Tcpdump::start(lan.ns(router), &args, &out, &err), out));
    }
    let vrid = |router: usize| 65 + router as u8;
    lan.start(R2, Keepalived, &config(R2, vrid(R2), ""));
    lan.start(R1, Keepvip, &config(R1, vrid(R1), ""));
    let announced = |router: usize| {
        let capture = std::fs::read_to_string(&captures[router - 1].1).unwrap_or_default();
        announced_at(&capture, &format!("198.51.100.10{router}"))
    };
    for router in [R2, R1] {
        lan.wait_until(
            ELECTION,
            &format!("r{router}: master's burst on eth1"),
            || !announced(router).is_empty(),
        );
    }
    let extra = "    garp_extra_if all 2\n";
    let reloaded_at = now();
    for router in [R2, R1] {
        lan.reload(router, &config(router, vrid(router), extra));
    }
    for router in [R2, R1] {
        lan.wait_until(
            ELECTION,
            &format!("r{router}: two rounds on eth1 after the reload"),
            || {
                announced(router)
                    .iter()
                    .filter(|&&t| t > reloaded_at)
                    .count()
                    >= 2
            },
        );
        let times: Vec<f64> = announced(router)
            .into_iter()
            .filter(|&t| t > reloaded_at)
            .collect();
        let (first, gap) = (times[0] - reloaded_at, times[1] - times[0]);
        assert!(
            // "At once": well before the 2 s repeat, with room for a
            // loaded machine's reload (keepalived re-reads its config).
            first < 1.0 && (1.9..2.4).contains(&gap),
            "{}",
            lan.diagnose(&format!(
                "r{router}: first {first:.3} s after the reload, then {gap:.3} s: {times:?}"
            ))
        );
    }
    for (tcpdump, _) in captures {
        tcpdump.stop();
    }
}

/// Announcement times of `address` from `router` after `since`, relative
/// to the first, up to `window` seconds after it.
fn pattern(lan: &Lan, router: usize, address: &str, since: Mark, window: f64) -> Vec<f64> {
    let times = lan.garp_times_since(router, address, since);
    let Some(&first) = times.first() else {
        return Vec::new();
    };
    times
        .into_iter()
        .map(|t| t - first)
        .take_while(|&t| t <= window)
        .collect()
}

/// Whether two announcement patterns match: as many packets, each within
/// `slack` seconds of its counterpart.
fn same_pattern(a: &[f64], b: &[f64], slack: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= slack)
}

/// Waits until every router in `pairs` has announced `addresses(router)`
/// after `since` and sent an advert `window` seconds after its first
/// announcement (so the capture holds the whole window); then asserts that keepvip (each
/// pair's first) sent each address's announcements at the times keepalived
/// (the second) did, and that the counts are `expected`.
fn assert_patterns_as_keepalived(
    lan: &Lan,
    pairs: &[(usize, usize)],
    addresses: &dyn Fn(usize) -> Vec<String>,
    expected: &[usize],
    since: Mark,
    window: f64,
) {
    for &(keepvip, keepalived) in pairs {
        for router in [keepvip, keepalived] {
            lan.wait_until(
                ELECTION,
                &format!("r{router} announced its addresses"),
                || {
                    addresses(router)
                        .iter()
                        .all(|a| !lan.garp_times_since(router, a, since).is_empty())
                },
            );
            let first = addresses(router)
                .iter()
                .map(|a| lan.garp_times_since(router, a, since)[0])
                .fold(f64::MAX, f64::min);
            lan.wait_until(
                ELECTION,
                &format!("r{router}'s window of {window} s is captured"),
                || {
                    lan.adverts_since(since)
                        .iter()
                        .any(|a| a.src_mac == lan.mac(router) && a.time > first + window + 0.2)
                },
            );
        }
    }
    for &(keepvip, keepalived) in pairs {
        for (i, (ours, theirs)) in addresses(keepvip)
            .iter()
            .zip(addresses(keepalived))
            .enumerate()
        {
            let (got, want) = (
                pattern(lan, keepvip, ours, since, window),
                pattern(lan, keepalived, &theirs, since, window),
            );
            assert!(
                same_pattern(&got, &want, 0.15) && want.len() == expected[i],
                "{}",
                lan.diagnose(&format!(
                    "r{keepvip} (keepvip) announced {ours} at {got:.3?}; r{keepalived} \
                     (keepalived) announced {theirs} at {want:.3?}; expected {} packets",
                    expected[i]
                ))
            );
        }
    }
}

/// `vrrp_min_garp` (r1 keepvip, r2 keepalived 2.2.7): one announcement on
/// becoming master and no second burst 5 s later, for IPv4 and IPv6; an
/// instance's own `garp_master_refresh 1` / `garp_master_refresh_repeat 3`
/// still apply over it. Beside them, the global forms
/// `vrrp_garp_master_refresh 1` / `vrrp_garp_master_refresh_repeat 2` (r3
/// keepvip, r4 keepalived): after the burst of one, two every second. Each
/// router masters its own VRIDs on one LAN, so all run at once.
#[test]
fn min_garp_and_master_refresh_announce_as_keepalived() {
    let Some(mut lan) = Lan::new("announce-refresh", 4) else {
        return;
    };
    let instance = |name: &str, vrid: usize, extra: &str, vip: String| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id {vrid}\n    priority 100\n    advert_int 0.1\n{extra}\
             \x20   virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
        )
    };
    let min_garp = |r: usize| {
        format!(
            "global_defs {{\n    vrrp_version 3\n    vrrp_min_garp\n}}\n{}{}{}",
            instance("VI_4", 80 + r, "", format!("192.0.2.{}/24", 100 + r)),
            instance("VI_6", 80 + r, "", format!("2001:db8::{}/64", 100 + r)),
            instance(
                "VI_R",
                90 + r,
                "    garp_master_refresh 1\n    garp_master_refresh_repeat 3\n",
                format!("192.0.2.{}/24", 110 + r)
            ),
        )
    };
    let global_refresh = |r: usize| {
        format!(
            "global_defs {{\n    vrrp_version 3\n    vrrp_garp_master_refresh 1\n\
             \x20   vrrp_garp_master_refresh_repeat 2\n}}\n{}",
            instance(
                "VI_4",
                80 + r,
                "    garp_master_repeat 1\n    garp_master_delay 0\n",
                format!("192.0.2.{}/24", 100 + r)
            ),
        )
    };
    lan.start(2, Keepalived, &min_garp(2));
    lan.start(4, Keepalived, &global_refresh(4));
    lan.start(1, Keepvip, &min_garp(1));
    lan.start(3, Keepvip, &global_refresh(3));
    // Past the 5 s garp_master_delay vrrp_min_garp turns off, and five
    // refreshes.
    let window = 5.6;
    assert_patterns_as_keepalived(
        &lan,
        &[(1, 2)],
        &|r| {
            vec![
                format!("192.0.2.{}", 100 + r),
                format!("2001:db8::{}", 100 + r),
                format!("192.0.2.{}", 110 + r),
            ]
        },
        &[1, 1, 16],
        Mark::START,
        window,
    );
    assert_patterns_as_keepalived(
        &lan,
        &[(3, 4)],
        &|r| vec![format!("192.0.2.{}", 100 + r)],
        &[11],
        Mark::START,
        window,
    );
}

/// A master that hears a lower-priority master (a partition healing)
/// sends a burst at once and another after a delay, keepvip as keepalived
/// 2.2.7, with the burst and delay set three ways (all instances with
/// `garp_master_repeat 1` and `garp_master_delay 0`):
/// - global `vrrp_garp_lower_prio_delay 1`, instance
///   `garp_lower_prio_repeat 2`: 2 at once, 2 a second later;
/// - neither: both follow the global `vrrp_garp_master_repeat 3` and
///   `vrrp_garp_master_delay 1`, not the instance's own;
/// - global `vrrp_garp_lower_prio_repeat 1`, instance
///   `garp_lower_prio_delay 2`.
///
/// Six high masters (keepvip and keepalived for each way), each with a
/// keepalived peer of lower priority (the next router) on its own VRID,
/// all on one LAN at once; each peer's link is cut as soon as its master
/// has answered, so that it is heard once (each advert heard starts a
/// burst): adverts every 1 s leave a loaded machine that long to see the
/// answer in the capture and cut the link.
#[test]
fn a_master_hearing_a_lower_master_announces_again_after_garp_lower_prio_delay_as_keepalived() {
    // (keepvip, keepalived, global_defs lines, instance lines, packets
    // expected, seconds to watch)
    let ways = [
        (
            1,
            3,
            "    vrrp_garp_lower_prio_delay 1\n",
            "    garp_lower_prio_repeat 2\n",
            4,
            1.6,
        ),
        (
            5,
            7,
            "    vrrp_garp_master_repeat 3\n    vrrp_garp_master_delay 1\n",
            "",
            6,
            1.6,
        ),
        (
            9,
            11,
            "    vrrp_garp_lower_prio_repeat 1\n",
            "    garp_lower_prio_delay 2\n",
            2,
            2.6,
        ),
    ];
    let Some(mut lan) = Lan::new("announce-lower-delay", 12) else {
        return;
    };
    let vip = |high: usize| format!("192.0.2.{}", 100 + high);
    let config = |high: usize, priority: u8, global: &str, extra: &str| {
        format!(
            "global_defs {{\n    vrrp_version 3\n{global}}}\n\
             vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n\
             \x20   virtual_router_id {}\n    priority {priority}\n    advert_int 1\n\
             \x20   garp_master_repeat 1\n    garp_master_delay 0\n{extra}\
             \x20   virtual_ipaddress {{\n        {}/24\n    }}\n}}\n",
            60 + high,
            vip(high)
        )
    };
    let highs: Vec<usize> = ways.iter().flat_map(|w| [w.0, w.1]).collect();
    for router in lan.routers() {
        lan.set_mcast_flood(router, false);
    }
    for (keepvip, keepalived, global, extra, _, _) in ways {
        for (high, imp) in [(keepvip, Keepvip), (keepalived, Keepalived)] {
            lan.start(high, imp, &config(high, 150, global, extra));
            lan.start(high + 1, Keepalived, &config(high, 100, global, extra));
        }
    }
    for &high in &highs {
        lan.wait_until(
            ELECTION,
            &format!("r{high} and r{} (partitioned) are both master", high + 1),
            || lan.holds_vip(high, &vip(high)) && lan.holds_vip(high + 1, &vip(high)),
        );
    }
    // Healed towards the high masters only; each lower one is cut off
    // once its master has answered its first advert.
    let healed = lan.mark();
    for &high in &highs {
        lan.set_mcast_flood(high, true);
    }
    let mut cut = [false; 13];
    lan.wait_until(ELECTION, "every high master answered its lower one", || {
        for &high in &highs {
            if !cut[high] && !lan.garp_times_since(high, &vip(high), healed).is_empty() {
                lan.set_link(high + 1, false);
                cut[high] = true;
            }
        }
        cut.iter().filter(|&&c| c).count() == highs.len()
    });
    for (keepvip, keepalived, _, _, packets, window) in ways {
        assert_patterns_as_keepalived(
            &lan,
            &[(keepvip, keepalived)],
            &|r| vec![vip(r)],
            &[packets],
            healed,
            window,
        );
    }
}
