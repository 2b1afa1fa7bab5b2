//! VRRPv3 over IPv4 (sub-second) and IPv6, and unicast peers (v2 over
//! IPv4, v3 over IPv6), on a LAN of two router namespaces, for every
//! pairing of keepvip and the real keepalived: start (the higher priority
//! wins), master death (the other takes over), return (it takes back).
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use common::{Impl, Lan, ELECTION};
use std::net::IpAddr;
use std::time::Duration;

const R1: usize = 1;
const R2: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// VRRPv3 over IPv4 multicast, advert_int 0.1.
    V3Ipv4Fast,
    /// VRRPv3 over IPv6 multicast (ff02::12), advert_int 0.5.
    V3Ipv6,
    /// VRRPv2 over IPv4, unicast peers, PASS authentication.
    UnicastV2,
    /// VRRPv3 over IPv6, unicast peers.
    UnicastV3Ipv6,
}

impl Mode {
    fn vip(self) -> &'static str {
        match self {
            Mode::V3Ipv4Fast => "192.0.2.100",
            Mode::UnicastV2 => "192.0.2.101",
            Mode::V3Ipv6 => "2001:db8::100",
            Mode::UnicastV3Ipv6 => "2001:db8::101",
        }
    }

    fn version(self) -> u8 {
        if self == Mode::UnicastV2 {
            2
        } else {
            3
        }
    }

    fn ipv6(self) -> bool {
        matches!(self, Mode::V3Ipv6 | Mode::UnicastV3Ipv6)
    }

    fn unicast(self) -> bool {
        matches!(self, Mode::UnicastV2 | Mode::UnicastV3Ipv6)
    }

    /// The address router `i` sends from.
    fn source(self, lan: &Lan, i: usize) -> IpAddr {
        if self.ipv6() {
            lan.addr6(i).into()
        } else {
            lan.addr(i).into()
        }
    }
}

fn config(lan: &Lan, router: usize, priority: u8, mode: Mode) -> String {
    let other = if router == R1 { R2 } else { R1 };
    let mut lines = vec![
        "global_defs {".to_string(),
        format!("    router_id r{router}"),
        "}".to_string(),
        "vrrp_instance VI_1 {".to_string(),
        "    state BACKUP".to_string(),
        "    interface eth0".to_string(),
        "    virtual_router_id 60".to_string(),
        format!("    priority {priority}"),
    ];
    match mode {
        Mode::V3Ipv4Fast => lines.extend(["    version 3", "    advert_int 0.1"].map(String::from)),
        Mode::V3Ipv6 => lines.extend(["    version 3", "    advert_int 0.5"].map(String::from)),
        Mode::UnicastV2 => lines.extend(
            [
                "    advert_int 1",
                "    authentication {",
                "        auth_type PASS",
                "        auth_pass 1111",
                "    }",
            ]
            .map(String::from),
        ),
        Mode::UnicastV3Ipv6 => {
            lines.extend(["    version 3", "    advert_int 1"].map(String::from))
        }
    }
    if mode.unicast() {
        lines.push(format!("    unicast_src_ip {}", mode.source(lan, router)));
        lines.push("    unicast_peer {".to_string());
        lines.push(format!("        {}", mode.source(lan, other)));
        lines.push("    }".to_string());
    }
    lines.push("    virtual_ipaddress {".to_string());
    lines.push(format!("        {}", mode.vip()));
    lines.push("    }".to_string());
    lines.push("}".to_string());
    lines.join("\n") + "\n"
}

/// Start, death of the master, return; with the checks each mode needs.
fn failover(tag: &'static str, imps: (Impl, Impl), mode: Mode) {
    let Some(mut lan) = Lan::new(tag, 2) else {
        return;
    };
    eprintln!(
        "[{tag}] r1 = {}, r2 = {}, {mode:?}",
        imps.0.name(),
        imps.1.name()
    );
    let vip = mode.vip();
    let c1 = config(&lan, R1, 150, mode);
    let c2 = config(&lan, R2, 100, mode);

    let m = lan.mark();
    lan.start(R1, imps.0, &c1);
    lan.start(R2, imps.1, &c2);
    let took = lan.wait_sole_holder(R1, vip, ELECTION);
    eprintln!("[{tag}] start: r1 wins (took {took:.1?})");
    lan.wait_garp_from(R1, vip, m);
    // Waited for, not read once: the GARP being in the capture does not
    // mean the advert (sent first, but perhaps printed a moment later by
    // tcpdump, or sent after it by another implementation) is too.
    lan.wait_until(
        common::CAPTURE_LAG,
        &format!("a VRRPv{} advert from r1 is captured", mode.version()),
        || {
            lan.adverts_since(m).iter().any(|a| {
                a.src_mac == lan.mac(R1) && a.version == mode.version() && a.priority == 150
            })
        },
    );
    check_wire(&lan, mode, imps);

    let m = lan.mark();
    lan.kill(R1);
    let took = lan.wait_sole_holder(R2, vip, ELECTION);
    eprintln!("[{tag}] r1 dies: r2 takes over (took {took:.1?})");
    lan.wait_garp_from(R2, vip, m);
    if mode == Mode::V3Ipv4Fast {
        check_fast_takeover(&lan, m);
    }

    let m = lan.mark();
    lan.revive(R1);
    let took = lan.wait_sole_holder(R1, vip, ELECTION);
    eprintln!("[{tag}] r1 returns: r1 takes back (took {took:.1?})");
    lan.wait_garp_from(R1, vip, m);
    lan.sole_holder_for(R1, vip, Duration::from_secs(2));
}

/// With advert_int 0.1 the backup takes over 3 x 0.1 s + skew (0.06 s)
/// after the master's last advert: measured on the wire, from r1's last
/// advert to r2's first as master, it must be well under a second.
fn check_fast_takeover(lan: &Lan, since: common::Mark) {
    // The capture lags a little; wait until r2's adverts are in it.
    lan.wait_until(common::CAPTURE_LAG, "r2's adverts are captured", || {
        lan.adverts_since(since)
            .iter()
            .any(|a| a.src_mac == lan.mac(R2))
    });
    let adverts = lan.adverts_since(since);
    let first_r2 = adverts
        .iter()
        .find(|a| a.src_mac == lan.mac(R2))
        .expect("r2 advert");
    // r1's last advert before the kill may precede the mark slightly; take
    // the last one in the whole capture before r2's first.
    let all = lan.adverts_since(common::Mark::START);
    let last_r1 = all
        .iter()
        .rev()
        .find(|a| a.src_mac == lan.mac(R1) && a.time < first_r2.time)
        .expect("r1 advert");
    let gap = first_r2.time - last_r1.time;
    eprintln!("takeover on the wire: {gap:.3} s after r1's last advert");
    assert!(
        gap < 0.8,
        "{}",
        lan.diagnose(&format!("takeover took {gap:.3} s on the wire"))
    );
}

/// tcpdump -vv verifies VRRP checksums (v3: with the pseudo-header) and
/// says "bad vrrp cksum" otherwise; unicast adverts go to the peer only.
fn check_wire(lan: &Lan, mode: Mode, imps: (Impl, Impl)) {
    let text = lan.verbose_capture(Duration::from_millis(2500));
    let header = format!("VRRPv{}, Advertisement", mode.version());
    assert!(text.contains(&header), "no {header} in:\n{text}");
    assert!(!text.contains("bad vrrp cksum"), "bad checksum in:\n{text}");
    let src = mode.source(lan, R1);
    if mode.unicast() {
        let to_peer = format!("{src} > {}: VRRPv", mode.source(lan, R2));
        assert!(text.contains(&to_peer), "no '{to_peer}' in:\n{text}");
        let group = if mode.ipv6() {
            "ff02::12"
        } else {
            "224.0.0.18"
        };
        assert!(
            !text.contains(&format!("> {group}: VRRP")),
            "a unicast instance sent to the group:\n{text}"
        );
    } else if mode.ipv6() {
        // Multicast v3 over IPv6 goes from the link-local address.
        assert!(text.contains("> ff02::12: VRRPv3"), "{text}");
    }
    if imps.0 == Impl::Keepvip {
        // Hop limit / TTL 255 on what we send.
        let ttl = if mode.ipv6() { "hlim 255" } else { "ttl 255" };
        assert!(text.contains(ttl), "no {ttl} in:\n{text}");
    }
}

macro_rules! pairings {
    ($mode:expr, $($name:ident: $tag:literal, $r1:ident, $r2:ident;)*) => {
        $(
            #[test]
            fn $name() {
                failover($tag, (Impl::$r1, Impl::$r2), $mode);
            }
        )*
    };
}

mod v3_ipv4_fast {
    use super::*;
    pairings!(Mode::V3Ipv4Fast,
        keepvip_keepvip: "v3f-vv", Keepvip, Keepvip;
        keepvip_master_keepalived_backup: "v3f-vk", Keepvip, Keepalived;
        keepalived_master_keepvip_backup: "v3f-kv", Keepalived, Keepvip;
    );
}

mod v3_ipv6 {
    use super::*;
    pairings!(Mode::V3Ipv6,
        keepvip_keepvip: "v36-vv", Keepvip, Keepvip;
        keepvip_master_keepalived_backup: "v36-vk", Keepvip, Keepalived;
        keepalived_master_keepvip_backup: "v36-kv", Keepalived, Keepvip;
    );
}

mod unicast_v2 {
    use super::*;
    pairings!(Mode::UnicastV2,
        keepvip_keepvip: "u2-vv", Keepvip, Keepvip;
        keepvip_master_keepalived_backup: "u2-vk", Keepvip, Keepalived;
        keepalived_master_keepvip_backup: "u2-kv", Keepalived, Keepvip;
    );
}

mod unicast_v3_ipv6 {
    use super::*;
    pairings!(Mode::UnicastV3Ipv6,
        keepvip_keepvip: "u36-vv", Keepvip, Keepvip;
        keepvip_master_keepalived_backup: "u36-vk", Keepvip, Keepalived;
        keepalived_master_keepvip_backup: "u36-kv", Keepalived, Keepvip;
    );
}

/// A unicast instance hears only its listed peers: r3 (keepalived,
/// priority 200) sends unicast adverts to r2, but r2 (keepvip) lists only
/// r1, so it drops them, counts them as unknown_peer, and becomes master
/// itself.
#[test]
fn adverts_from_unlisted_sources_are_dropped() {
    const R3: usize = 3;
    let Some(mut lan) = Lan::new("u-drop", 3) else {
        return;
    };
    let mode = Mode::UnicastV2;
    let vip = mode.vip();
    let c2 = config(&lan, R2, 100, mode);
    // r3 claims the same VRID with a higher priority, talking to r2.
    let c3 = config(&lan, R1, 200, mode).replace(
        &format!("unicast_src_ip {}", lan.addr(R1)),
        &format!("unicast_src_ip {}", lan.addr(R3)),
    );
    lan.start(R3, Impl::Keepalived, &c3);
    lan.start(R2, Impl::Keepvip, &c2);
    lan.wait_until(ELECTION, "r2 and r3 both hold the VIP", || {
        lan.holds_vip(R2, vip) && lan.holds_vip(R3, vip)
    });
    // r3 keeps talking to r2 every second; r2 must not give way.
    lan.holds_for(Duration::from_secs(3), "r2 keeps the VIP", || {
        lan.holds_vip(R2, vip)
    });
    let stats = lan.dir().join("r2").join("keepvip.stats");
    let _ = std::fs::remove_file(&stats);
    lan.signal(R2, libc::SIGUSR2);
    lan.wait_until(Duration::from_secs(10), "keepvip.stats written", || {
        std::fs::read_to_string(&stats).is_ok_and(|t| t.contains("discarded_unknown_peer"))
    });
    let text = std::fs::read_to_string(&stats).unwrap();
    let dropped: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("discarded_unknown_peer "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(dropped >= 2, "stats:\n{text}");
    assert!(lan.log(R2).contains("unknown_peer"), "{}", lan.log(R2));
}
