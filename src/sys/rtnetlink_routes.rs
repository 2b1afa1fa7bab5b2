//! Adding and removing routes and policy rules over rtnetlink, as `ip
//! route add|del` and `ip rule add|del` do, each request acknowledged by
//! the kernel (see `rtnetlink` for the socket and the message framing).
//!
//! ```text
//! rtmsg (12 bytes): u8 family, u8 dst_len, u8 src_len, u8 tos,
//!   u8 table, u8 protocol, u8 scope, u8 type, u32 flags
//!   RTA_DST, RTA_PREFSRC, RTA_GATEWAY (addresses), RTA_OIF,
//!   RTA_PRIORITY (metric), RTA_TABLE (u32),
//!   RTA_MULTIPATH: one rtnexthop per path, each
//!     u16 len, u8 flags, u8 hops (weight - 1), i32 ifindex, RTA_GATEWAY
//! fib_rule_hdr (12 bytes): u8 family, u8 dst_len, u8 src_len, u8 tos,
//!   u8 table, u8 res1, u8 res2, u8 action, u32 flags
//!   FRA_DST, FRA_SRC, FRA_IIFNAME, FRA_OIFNAME (NUL-terminated),
//!   FRA_PRIORITY, FRA_FWMARK, FRA_FWMASK, FRA_TABLE (u32),
//!   FRA_PROTOCOL (u8)
//! ```

use std::io;
use std::net::IpAddr;

use super::rtnetlink::{
    begin_message, context, finish_message, push_attr, RtNetlink, NLM_F_ACK, NLM_F_CREATE,
    NLM_F_EXCL, NLM_F_REQUEST,
};

const RTM_NEWROUTE: u16 = libc::RTM_NEWROUTE;
const RTM_DELROUTE: u16 = libc::RTM_DELROUTE;
const RTM_NEWRULE: u16 = libc::RTM_NEWRULE;
const RTM_DELRULE: u16 = libc::RTM_DELRULE;

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;

const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FRA_OIFNAME: u16 = 17;
const FRA_PROTOCOL: u16 = 21;
/// FR_ACT_TO_TBL: look the packet up in the rule's table.
const FR_ACT_TO_TBL: u8 = 1;

const RT_SCOPE_UNIVERSE: u8 = 0;
/// In a deletion: any scope matches.
const RT_SCOPE_NOWHERE: u8 = 255;
const RTN_UNICAST: u8 = 1;
/// A table id that does not fit rtm_table goes in RTA_TABLE only.
const RT_TABLE_UNSPEC: u8 = 0;
const RT_TABLE_MAIN: u32 = 254;
/// In rtm_flags: `onlink`.
const RTNH_F_ONLINK: u32 = 4;

/// The route types keepalived's routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteType {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
}

impl RouteType {
    fn rtn(self) -> u8 {
        match self {
            RouteType::Unicast => RTN_UNICAST,
            RouteType::Blackhole => libc::RTN_BLACKHOLE,
            RouteType::Unreachable => libc::RTN_UNREACHABLE,
            RouteType::Prohibit => libc::RTN_PROHIBIT,
        }
    }
}

/// One route, interfaces resolved to indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub kind: RouteType,
    pub destination: IpAddr,
    pub prefix_len: u8,
    pub source: Option<IpAddr>,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    /// None: main.
    pub table: Option<u32>,
    pub metric: Option<u32>,
    /// None: universe, as keepalived adds it (not `ip route`'s link for
    /// a route without a gateway).
    pub scope: Option<u8>,
    pub protocol: u8,
    /// RTNH_F_ONLINK: the gateway is on the link, whatever its prefixes.
    pub onlink: bool,
    /// The paths of a multipath route (RTA_MULTIPATH); empty: one path.
    pub nexthops: Vec<NexthopSpec>,
}

/// One path of a multipath route, its interface resolved to an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NexthopSpec {
    pub gateway: Option<IpAddr>,
    /// None: the kernel finds it from the gateway.
    pub oif: Option<u32>,
    /// 1..=256.
    pub weight: u16,
    pub onlink: bool,
}

/// One policy rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub ipv6: bool,
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub fwmark: Option<(u32, Option<u32>)>,
    pub priority: Option<u32>,
    pub table: u32,
    pub protocol: u8,
}

impl RtNetlink {
    /// `ip route add`; a route already there is `AlreadyExists`.
    pub fn add_route(&mut self, route: &RouteSpec) -> io::Result<()> {
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        let msg = route_request(RTM_NEWROUTE, flags, seq, route);
        self.request_ack(&msg, seq).map_err(|e| {
            context(
                e,
                format!("add route {}/{}", route.destination, route.prefix_len),
            )
        })
    }

    /// `ip route del`: Ok(false) when no such route was there.
    pub fn del_route(&mut self, route: &RouteSpec) -> io::Result<bool> {
        let seq = self.next_seq();
        let msg = route_request(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, seq, route);
        absent_is_false(self.request_ack(&msg, seq)).map_err(|e| {
            context(
                e,
                format!("delete route {}/{}", route.destination, route.prefix_len),
            )
        })
    }

    /// `ip rule add`; a rule already there is `AlreadyExists`.
    pub fn add_rule(&mut self, rule: &RuleSpec) -> io::Result<()> {
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        let msg = rule_request(RTM_NEWRULE, flags, seq, rule);
        self.request_ack(&msg, seq)
            .map_err(|e| context(e, format!("add rule to table {}", rule.table)))
    }

    /// `ip rule del`: Ok(false) when no such rule was there.
    pub fn del_rule(&mut self, rule: &RuleSpec) -> io::Result<bool> {
        let seq = self.next_seq();
        let msg = rule_request(RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK, seq, rule);
        absent_is_false(self.request_ack(&msg, seq))
            .map_err(|e| context(e, format!("delete rule to table {}", rule.table)))
    }
}

/// ESRCH (route) and ENOENT (rule) mean there was nothing to delete.
fn absent_is_false(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) || e.kind() == io::ErrorKind::NotFound => {
            Ok(false)
        }
        Err(e) if e.to_string().starts_with("No such process") => Ok(false),
        Err(e) => Err(e),
    }
}

fn family(ipv6: bool) -> u8 {
    if ipv6 {
        libc::AF_INET6 as u8
    } else {
        libc::AF_INET as u8
    }
}

fn octets(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The table in the 8-bit header field when it fits; RTA_TABLE/FRA_TABLE
/// carry it whole either way.
fn header_table(table: u32) -> u8 {
    u8::try_from(table).unwrap_or(RT_TABLE_UNSPEC)
}

fn route_request(ty: u16, flags: u16, seq: u32, route: &RouteSpec) -> Vec<u8> {
    let mut buf = Vec::with_capacity(96);
    begin_message(&mut buf, ty, flags, seq);
    let table = route.table.unwrap_or(RT_TABLE_MAIN);
    let scope = match (ty, route.scope) {
        (_, Some(scope)) => scope,
        (RTM_DELROUTE, None) => RT_SCOPE_NOWHERE,
        // keepalived 2.2.7 leaves the kernel's default, where `ip route`
        // would make a route without a gateway link-scoped.
        (_, None) => RT_SCOPE_UNIVERSE,
    };
    buf.push(family(route.destination.is_ipv6()));
    buf.push(route.prefix_len);
    buf.push(0); // src_len
    buf.push(0); // tos
    buf.push(header_table(table));
    buf.push(route.protocol);
    buf.push(scope);
    buf.push(route.kind.rtn());
    let flags: u32 = if route.onlink { RTNH_F_ONLINK } else { 0 };
    buf.extend_from_slice(&flags.to_ne_bytes());
    if route.prefix_len > 0 {
        push_attr(&mut buf, RTA_DST, &octets(route.destination));
    }
    if let Some(source) = route.source {
        push_attr(&mut buf, RTA_PREFSRC, &octets(source));
    }
    if let Some(gateway) = route.gateway {
        push_attr(&mut buf, RTA_GATEWAY, &octets(gateway));
    }
    if let Some(oif) = route.oif {
        push_attr(&mut buf, RTA_OIF, &oif.to_ne_bytes());
    }
    if let Some(metric) = route.metric {
        push_attr(&mut buf, RTA_PRIORITY, &metric.to_ne_bytes());
    }
    push_attr(&mut buf, RTA_TABLE, &table.to_ne_bytes());
    if !route.nexthops.is_empty() {
        push_attr(&mut buf, RTA_MULTIPATH, &multipath(&route.nexthops));
    }
    finish_message(&mut buf);
    buf
}

/// RTA_MULTIPATH's payload: the rtnexthops back to back, each padded to 4.
fn multipath(nexthops: &[NexthopSpec]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * nexthops.len());
    for path in nexthops {
        let start = out.len();
        out.extend_from_slice(&0u16.to_ne_bytes()); // rtnh_len, set below
        out.push(if path.onlink { RTNH_F_ONLINK as u8 } else { 0 });
        out.push(u8::try_from(path.weight.clamp(1, 256) - 1).unwrap_or(u8::MAX));
        let ifindex = path.oif.map_or(0, |i| i32::try_from(i).unwrap_or(0));
        out.extend_from_slice(&ifindex.to_ne_bytes());
        if let Some(gateway) = path.gateway {
            push_attr(&mut out, RTA_GATEWAY, &octets(gateway));
        }
        let len = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        out[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }
    out
}

fn rule_request(ty: u16, flags: u16, seq: u32, rule: &RuleSpec) -> Vec<u8> {
    let mut buf = Vec::with_capacity(96);
    begin_message(&mut buf, ty, flags, seq);
    buf.push(family(rule.ipv6));
    buf.push(rule.to.map_or(0, |(_, len)| len));
    buf.push(rule.from.map_or(0, |(_, len)| len));
    buf.push(0); // tos
    buf.push(header_table(rule.table));
    buf.push(0);
    buf.push(0);
    buf.push(FR_ACT_TO_TBL);
    buf.extend_from_slice(&0u32.to_ne_bytes());
    if let Some((addr, _)) = rule.to {
        push_attr(&mut buf, FRA_DST, &octets(addr));
    }
    if let Some((addr, _)) = rule.from {
        push_attr(&mut buf, FRA_SRC, &octets(addr));
    }
    for (ty, name) in [(FRA_IIFNAME, &rule.iif), (FRA_OIFNAME, &rule.oif)] {
        if let Some(name) = name {
            let mut bytes = name.as_bytes().to_vec();
            bytes.push(0);
            push_attr(&mut buf, ty, &bytes);
        }
    }
    if let Some(priority) = rule.priority {
        push_attr(&mut buf, FRA_PRIORITY, &priority.to_ne_bytes());
    }
    if let Some((mark, mask)) = rule.fwmark {
        push_attr(&mut buf, FRA_FWMARK, &mark.to_ne_bytes());
        if let Some(mask) = mask {
            push_attr(&mut buf, FRA_FWMASK, &mask.to_ne_bytes());
        }
    }
    push_attr(&mut buf, FRA_TABLE, &rule.table.to_ne_bytes());
    push_attr(&mut buf, FRA_PROTOCOL, &[rule.protocol]);
    finish_message(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ne_u16(b: &[u8]) -> u16 {
        u16::from_ne_bytes([b[0], b[1]])
    }

    /// (type, payload) of each attribute after a 12-byte header.
    fn attributes(msg: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut rest = &msg[16 + 12..];
        while rest.len() >= 4 {
            let len = ne_u16(rest) as usize;
            out.push((ne_u16(&rest[2..]), rest[4..len].to_vec()));
            rest = &rest[(len + 3) & !3..];
        }
        out
    }

    #[test]
    fn a_gateway_route_in_a_table() {
        let route = RouteSpec {
            kind: RouteType::Unicast,
            destination: Ipv4Addr::new(203, 0, 113, 0).into(),
            prefix_len: 24,
            source: Some(Ipv4Addr::new(192, 0, 2, 100).into()),
            gateway: Some(Ipv4Addr::new(198, 51, 100, 1).into()),
            oif: Some(5),
            table: Some(1000),
            metric: Some(7),
            scope: None,
            protocol: 18,
            onlink: false,
            nexthops: Vec::new(),
        };
        let msg = route_request(RTM_NEWROUTE, NLM_F_REQUEST, 3, &route);
        assert_eq!(ne_u16(&msg[4..]), RTM_NEWROUTE);
        // AF_INET /24, table 1000 does not fit: unspec; proto 18, universe, unicast.
        assert_eq!(&msg[16..24], &[2, 24, 0, 0, 0, 18, 0, 1]);
        assert_eq!(
            attributes(&msg),
            [
                (RTA_DST, vec![203, 0, 113, 0]),
                (RTA_PREFSRC, vec![192, 0, 2, 100]),
                (RTA_GATEWAY, vec![198, 51, 100, 1]),
                (RTA_OIF, 5u32.to_ne_bytes().to_vec()),
                (RTA_PRIORITY, 7u32.to_ne_bytes().to_vec()),
                (RTA_TABLE, 1000u32.to_ne_bytes().to_vec()),
            ]
        );
        let del = route_request(RTM_DELROUTE, NLM_F_REQUEST, 4, &route);
        assert_eq!(del[16 + 6], RT_SCOPE_NOWHERE);
    }

    #[test]
    fn a_device_route_and_a_blackhole_are_universe_scoped() {
        let mut route = RouteSpec {
            kind: RouteType::Unicast,
            destination: Ipv4Addr::new(198, 51, 100, 200).into(),
            prefix_len: 32,
            source: None,
            gateway: None,
            oif: Some(2),
            table: None,
            metric: None,
            scope: None,
            protocol: 18,
            onlink: false,
            nexthops: Vec::new(),
        };
        let msg = route_request(RTM_NEWROUTE, NLM_F_REQUEST, 1, &route);
        assert_eq!(&msg[16..24], &[2, 32, 0, 0, 254, 18, RT_SCOPE_UNIVERSE, 1]);
        route.kind = RouteType::Blackhole;
        route.oif = None;
        let msg = route_request(RTM_NEWROUTE, NLM_F_REQUEST, 1, &route);
        assert_eq!(
            &msg[16..24],
            &[2, 32, 0, 0, 254, 18, 0, libc::RTN_BLACKHOLE]
        );
    }

    #[test]
    fn a_multipath_route_carries_its_paths_in_rta_multipath() {
        let route = RouteSpec {
            kind: RouteType::Unicast,
            destination: Ipv4Addr::new(203, 0, 113, 0).into(),
            prefix_len: 26,
            source: None,
            gateway: None,
            oif: None,
            table: None,
            metric: None,
            scope: None,
            protocol: 18,
            onlink: false,
            nexthops: vec![
                NexthopSpec {
                    gateway: Some(Ipv4Addr::new(192, 0, 2, 1).into()),
                    oif: Some(2),
                    weight: 2,
                    onlink: false,
                },
                NexthopSpec {
                    gateway: None,
                    oif: Some(3),
                    weight: 256,
                    onlink: true,
                },
            ],
        };
        let msg = route_request(RTM_NEWROUTE, NLM_F_REQUEST, 1, &route);
        let attrs = attributes(&msg);
        let (ty, paths) = attrs.last().unwrap();
        assert_eq!(*ty, RTA_MULTIPATH);
        let mut expected = Vec::new();
        // len 16, flags 0, hops 1 (weight 2), ifindex 2, RTA_GATEWAY.
        expected.extend_from_slice(&16u16.to_ne_bytes());
        expected.extend_from_slice(&[0, 1]);
        expected.extend_from_slice(&2i32.to_ne_bytes());
        expected.extend_from_slice(&8u16.to_ne_bytes());
        expected.extend_from_slice(&RTA_GATEWAY.to_ne_bytes());
        expected.extend_from_slice(&[192, 0, 2, 1]);
        // len 8, onlink, hops 255 (weight 256), ifindex 3, no gateway.
        expected.extend_from_slice(&8u16.to_ne_bytes());
        expected.extend_from_slice(&[RTNH_F_ONLINK as u8, 255]);
        expected.extend_from_slice(&3i32.to_ne_bytes());
        assert_eq!(*paths, expected);
    }

    #[test]
    fn a_rule_with_every_selector() {
        let rule = RuleSpec {
            ipv6: false,
            from: Some((Ipv4Addr::new(192, 0, 2, 100).into(), 32)),
            to: Some((Ipv4Addr::new(203, 0, 113, 0).into(), 24)),
            iif: Some("eth0".into()),
            oif: Some("eth1".into()),
            fwmark: Some((7, Some(0xff))),
            priority: Some(100),
            table: 100,
            protocol: 18,
        };
        let msg = rule_request(RTM_NEWRULE, NLM_F_REQUEST, 1, &rule);
        assert_eq!(ne_u16(&msg[4..]), RTM_NEWRULE);
        assert_eq!(&msg[16..24], &[2, 24, 32, 0, 100, 0, 0, FR_ACT_TO_TBL]);
        assert_eq!(
            attributes(&msg),
            [
                (FRA_DST, vec![203, 0, 113, 0]),
                (FRA_SRC, vec![192, 0, 2, 100]),
                (FRA_IIFNAME, b"eth0\0".to_vec()),
                (FRA_OIFNAME, b"eth1\0".to_vec()),
                (FRA_PRIORITY, 100u32.to_ne_bytes().to_vec()),
                (FRA_FWMARK, 7u32.to_ne_bytes().to_vec()),
                (FRA_FWMASK, 0xffu32.to_ne_bytes().to_vec()),
                (FRA_TABLE, 100u32.to_ne_bytes().to_vec()),
                (FRA_PROTOCOL, vec![18]),
            ]
        );
    }
}
