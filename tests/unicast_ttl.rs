//! `unicast_ttl` on a namespace LAN, keepvip beside keepalived 2.2.7 in
//! both roles: the TTL (IPv6: hop limit) of unicast adverts.
//!
//! What keepalived 2.2.7 was seen doing: without `unicast_ttl` it sends
//! IPv4 unicast adverts with TTL 255 and IPv6 ones with hop limit 64; with
//! it, both with its value. On receive it takes a unicast advert from a
//! listed peer whatever its TTL, with or without a `unicast_ttl` of its
//! own (64 sent to a router configured with 255, 32 or 64 was accepted).
//! keepvip does the same.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const KEEPVIP: usize = 1;
const KEEPALIVED: usize = 2;
/// keepvip the master, sending with TTL 64.
const VIP_KEEPVIP: &str = "192.0.2.100";
/// keepalived the master, sending with TTL 64.
const VIP_KEEPALIVED: &str = "192.0.2.101";
/// keepvip the master, sending with hop limit 64.
const VIP6_KEEPVIP: &str = "2001:db8::100";

fn instance(name: &str, vrid: u8, priority: u8, ttl: bool, peer: &str, vip: &str) -> String {
    let prefix = if vip.contains(':') { 64 } else { 24 };
    let ttl = if ttl { "    unicast_ttl 64\n" } else { "" };
    format!(
        "vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n\
         \x20   priority {priority}\n    version 3\n    advert_int 0.2\n{ttl}\
         \x20   unicast_peer {{\n        {peer}\n    }}\n\
         \x20   virtual_ipaddress {{\n        {vip}/{prefix}\n    }}\n}}\n"
    )
}

/// Each router is master of one IPv4 instance and sends its unicast
/// adverts with TTL 64; keepvip also masters an IPv6 one, with hop limit
/// 64. Each backup hears the other's adverts (it stays backup beyond
/// master_down), and the capture shows the TTLs.
#[test]
fn unicast_ttl_64_both_ways_with_keepalived() {
    let Some(mut lan) = Lan::new("unicast-ttl", 2) else {
        return;
    };
    let (v4_keepvip, v4_keepalived) = ("192.0.2.11", "192.0.2.12");
    let (v6_keepvip, v6_keepalived) = ("2001:db8::11", "2001:db8::12");
    let keepalived = format!(
        "{}{}{}",
        instance("A", 80, 100, false, v4_keepvip, VIP_KEEPVIP),
        instance("B", 81, 150, true, v4_keepvip, VIP_KEEPALIVED),
        instance("C", 82, 100, false, v6_keepvip, VIP6_KEEPVIP).replace(
            "    unicast_peer",
            "    unicast_src_ip 2001:db8::12\n    unicast_peer"
        ),
    );
    let keepvip = format!(
        "{}{}{}",
        instance("A", 80, 150, true, v4_keepalived, VIP_KEEPVIP),
        instance("B", 81, 100, false, v4_keepalived, VIP_KEEPALIVED),
        instance("C", 82, 150, true, v6_keepalived, VIP6_KEEPVIP).replace(
            "    unicast_peer",
            "    unicast_src_ip 2001:db8::11\n    unicast_peer"
        ),
    );
    lan.start(KEEPALIVED, Impl::Keepalived, &keepalived);
    lan.start(KEEPVIP, Impl::Keepvip, &keepvip);
    lan.wait_sole_holder(KEEPVIP, VIP_KEEPVIP, ELECTION);
    lan.wait_sole_holder(KEEPALIVED, VIP_KEEPALIVED, ELECTION);
    lan.wait_sole_holder(KEEPVIP, VIP6_KEEPVIP, ELECTION);
    // More than twice master_down (0.6 s plus skew): the backups heard.
    lan.holds_for(Duration::from_millis(1500), "the masters stay", || {
        lan.sole_holder(KEEPVIP, VIP_KEEPVIP)
            && lan.sole_holder(KEEPALIVED, VIP_KEEPALIVED)
            && lan.sole_holder(KEEPVIP, VIP6_KEEPVIP)
    });

    let verbose = lan.verbose_capture(Duration::from_millis(600));
    // IPv4: "IP (tos 0xc0, ttl 64, ...)" then "    SRC > DST: VRRPv3,
    // Advertisement, (ttl 64), vrid N, ..." (-vv shows a TTL not 255).
    let ttl_of = |from: &str, to: &str, vrid: u8| -> Vec<String> {
        let ends = format!("{from} > {to}: VRRPv3, Advertisement,");
        let vrid = format!(" vrid {vrid},");
        verbose
            .lines()
            .zip(verbose.lines().skip(1))
            .filter(|(_, next)| next.contains(&ends) && next.contains(&vrid))
            .filter_map(|(header, _)| {
                let ttl = header.split("ttl ").nth(1)?.split(',').next()?;
                Some(ttl.to_string())
            })
            .collect()
    };
    for (from, to, vrid) in [
        (v4_keepvip, v4_keepalived, 80),
        (v4_keepalived, v4_keepvip, 81),
    ] {
        let ttls = ttl_of(from, to, vrid);
        assert!(
            !ttls.is_empty() && ttls.iter().all(|t| t == "64"),
            "{from} > {to} VRID {vrid}: TTLs {ttls:?}:\n{verbose}"
        );
    }
    let ends6 =
        format!("{v6_keepvip} > {v6_keepalived}: VRRPv3, Advertisement, (ttl 64), vrid 82,");
    let hops: Vec<&str> = verbose.lines().filter(|l| l.contains(&ends6)).collect();
    assert!(
        !hops.is_empty() && hops.iter().all(|l| l.contains("hlim 64,")),
        "keepvip's IPv6 adverts are not all at hop limit 64:\n{verbose}"
    );
}
