//! `virtual_routes`, `virtual_rules` (owned by a master, in a
//! vrrp_instance) and `static_ipaddress`, `static_routes`, `static_rules`
//! (top level, owned from start to stop), one route or rule per line, in
//! keepalived's words (which are `ip route` / `ip rule`'s):
//!
//! ```text
//! [src ADDR] [to] DEST[/LEN] [via|gw GW] [dev IF] [scope S] [table T]
//!     [metric M] [protocol P] [onlink] [no_track]
//! ... DEST ... nexthop [via GW] [dev IF] [weight W] [onlink] nexthop ...
//! ... DEST ... via GW or GW [or GW ...] [dev IF]
//! blackhole|unreachable|prohibit DEST[/LEN] [table T] [metric M] ...
//! [from ADDR[/LEN]|all] [to ADDR[/LEN]] [iif IF] [oif IF] [fwmark M[/MASK]]
//!     [priority|preference N] table|lookup T [no_track]
//! ```
//!
//! An option keepalived knows and keepvip does not is an error: a route
//! or rule installed without it is another route or rule than
//! keepalived's. A word keepalived itself does not know (`proto`, `pref`),
//! a value it cannot read (an address, number, table, scope), a line it
//! cannot use (no destination, families mixed, a rule without a table)
//! makes keepalived 2.2.7 skip that line with a warning: keepvip skips it
//! too, with its own. A value missing at the end of a line makes
//! keepalived exit, and keepvip refuse.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::model::{ConfigError, Span, Warning};
use super::netlink_names::{protocol, scope, table, PROTOCOL_KEEPALIVED};
use super::syntax::Statement;
use super::values::{error_at, ip_address, warn_keepalived_error_at};

/// What a route does with a packet: `ip route`'s route types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// Forwarded: via a gateway and/or out of an interface.
    Unicast,
    /// Dropped silently.
    Blackhole,
    /// Dropped with ICMP host unreachable.
    Unreachable,
    /// Dropped with ICMP administratively prohibited.
    Prohibit,
}

/// One route line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub kind: RouteKind,
    /// The destination prefix; `default` is the family's /0.
    pub destination: IpAddr,
    pub prefix_len: u8,
    /// `src ADDR`: the preferred source of packets this route sends.
    pub source: Option<IpAddr>,
    /// `via GW` / `gw GW`.
    pub gateway: Option<IpAddr>,
    /// `dev IF`.
    pub dev: Option<String>,
    /// `table T`; None: main.
    pub table: Option<u32>,
    /// `metric M` (also `priority`, `preference`).
    pub metric: Option<u32>,
    /// `scope S`; None: universe, as keepalived 2.2.7 adds its routes
    /// (`ip route add` would make a route without a gateway link-scoped).
    pub scope: Option<u8>,
    /// `protocol P`; default keepalived's own (18), as keepalived marks its
    /// routes.
    pub protocol: u8,
    /// `no_track`: its `dev` going down does not put the instance in
    /// FAULT (keepalived tracks the interfaces of virtual routes).
    pub no_track: bool,
    /// `onlink`: the gateway is taken as on the link even if no prefix
    /// of the interface covers it.
    pub onlink: bool,
    /// A multipath route's paths (`nexthop ...`, or keepalived's older
    /// `via A or B`); empty for a route with one path.
    pub nexthops: Vec<Nexthop>,
    pub span: Span,
}

/// One path of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    pub gateway: Option<IpAddr>,
    pub dev: Option<String>,
    /// `weight W`, 1..=256 (`ip route`'s default 1).
    pub weight: u16,
    pub onlink: bool,
}

impl Route {
    pub fn is_ipv6(&self) -> bool {
        self.destination.is_ipv6()
    }
}

/// One rule line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub ipv6: bool,
    /// `from ADDR[/LEN]`; None: all.
    pub from: Option<(IpAddr, u8)>,
    /// `to ADDR[/LEN]`.
    pub to: Option<(IpAddr, u8)>,
    /// `iif IF`.
    pub iif: Option<String>,
    /// `oif IF`.
    pub oif: Option<String>,
    /// `fwmark M[/MASK]`.
    pub fwmark: Option<(u32, Option<u32>)>,
    /// `priority N` / `preference N`; None: the kernel picks.
    pub priority: Option<u32>,
    /// `table T` / `lookup T` (without it keepalived skips the rule).
    pub table: u32,
    pub no_track: bool,
    pub span: Span,
}

/// Route words keepalived 2.2.7 knows that keepvip does not implement
/// (each checked with `keepalived -t`: no "unknown route keyword"). Any
/// other word keepvip does not know is one keepalived does not know
/// either, and it drops the route.
const KEEPALIVED_ROUTE_WORDS: &[&str] = &[
    "from",
    "or",
    "nexthop",
    "weight",
    "tos",
    "dsfield",
    "pref",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "lock",
    "realms",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "vrf",
    "features",
    "fastopen_no_cookie",
    "congctl",
    "quickack",
    "expires",
    "append",
    "ttl-propagate",
    "encap",
    "track_group",
    "throw",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "nat",
    "unicast",
];

/// Rule words keepalived 2.2.7 knows that keepvip does not implement
/// (each checked with `keepalived -t`: no "Unknown rule option" nor
/// "Invalid rule action"). Any other word keepvip does not know makes
/// keepalived drop the rule.
const KEEPALIVED_RULE_WORDS: &[&str] = &[
    "not",
    "tos",
    "dsfield",
    "realms",
    "goto",
    "nop",
    "blackhole",
    "prohibit",
    "unreachable",
    "l3mdev",
    "suppress_prefixlength",
    "suppress_ifgroup",
    "uidrange",
    "sport",
    "dport",
    "ipproto",
    "protocol",
    "type",
];

/// Why a route or rule line is not kept. keepalived 2.2.7 exits on a
/// line it cannot parse (a value missing) and keepvip refuses a word it
/// cannot honour; a value keepalived cannot read (a bad address, number,
/// table, family mix) makes it skip the line with a warning, and keepvip
/// skips it too (each watched in a namespace with `ip route`/`ip rule`).
enum Problem {
    Refused(ConfigError),
    /// What keepalived cannot read, from the block's name on.
    Skipped(String),
}

impl From<ConfigError> for Problem {
    fn from(e: ConfigError) -> Problem {
        Problem::Refused(e)
    }
}

/// A value keepalived cannot read: the line is skipped.
fn unreadable(block: &str, e: ConfigError) -> Problem {
    Problem::Skipped(format!("{block}: {}", e.message))
}

/// The lines of a `virtual_routes` or `static_routes` block.
pub(crate) fn routes(
    block: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Route>, ConfigError> {
    let mut kept = Vec::new();
    for line in super::values::block_of(block)? {
        match route(&block.keyword, line, warnings) {
            Ok(route) => kept.push(route),
            Err(Problem::Refused(e)) => return Err(e),
            Err(Problem::Skipped(why)) => warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("{why}: this route is dropped, as keepalived 2.2.7 drops it"),
            ),
        }
    }
    Ok(kept)
}

/// The lines of a `virtual_rules` or `static_rules` block.
pub(crate) fn rules(
    block: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Rule>, ConfigError> {
    let mut kept = Vec::new();
    for line in super::values::block_of(block)? {
        match rule(&block.keyword, line) {
            Ok(rule) => kept.push(rule),
            Err(Problem::Refused(e)) => return Err(e),
            Err(Problem::Skipped(why)) => warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("{why}: this rule is dropped, as keepalived 2.2.7 drops it"),
            ),
        }
    }
    Ok(kept)
}

/// A line's words: its keyword, then its values.
fn words(line: &Statement) -> Vec<&str> {
    std::iter::once(line.keyword.as_str())
        .chain(line.args.iter().map(String::as_str))
        .collect()
}

fn refuse_block(block: &str, line: &Statement) -> Result<(), ConfigError> {
    match line.block {
        Some(_) => Err(error_at(
            &line.span,
            format!("{block}: '{}' does not take a '{{' block", line.keyword),
        )),
        None => Ok(()),
    }
}

/// `ADDR[/LEN]`, or `default` (/0 of `ipv6`'s family).
fn prefix(block: &str, line: &Statement, text: &str, ipv6: bool) -> Result<(IpAddr, u8), Problem> {
    if text == "default" || text == "all" {
        let any = if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok((any, 0));
    }
    let (addr_text, len_text) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr = ip_address(line, addr_text).map_err(|e| unreadable(block, e))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len_text {
        None => max,
        Some(l) => l
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| l.parse::<u8>().ok())
            .flatten()
            .filter(|len| *len <= max)
            .ok_or_else(|| {
                Problem::Skipped(format!(
                    "{block}: '{text}': expected a prefix length 0..{max} after '/'"
                ))
            })?,
    };
    Ok((addr, len))
}

fn value<'a>(
    block: &str,
    line: &Statement,
    words: &mut impl Iterator<Item = &'a str>,
    option: &str,
) -> Result<&'a str, ConfigError> {
    words
        .next()
        .ok_or_else(|| error_at(&line.span, format!("{block}: '{option}' needs a value")))
}

/// A value keepalived cannot read: it skips the line.
fn bad_value(block: &str, option: &str, expected: &str, found: &str) -> Problem {
    Problem::Skipped(format!(
        "{block}: {option}: expected {expected}, found \"{found}\""
    ))
}

fn u32_value(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u32::from_str_radix(hex, 16).ok(),
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        _ => None,
    }
}

fn interface_value(
    block: &str,
    line: &Statement,
    option: &str,
    text: &str,
) -> Result<String, ConfigError> {
    if text.is_empty() || text.len() > 15 || text.contains('/') || text.contains(':') {
        // keepalived finds no such interface, and exits on that.
        return Err(error_at(
            &line.span,
            format!("{block}: {option}: expected an interface name, found \"{text}\""),
        ));
    }
    Ok(text.to_string())
}

/// None: a line keepalived skips (see `KEEPALIVED_ROUTE_WORDS`).
fn route(block: &str, line: &Statement, warnings: &mut Vec<Warning>) -> Result<Route, Problem> {
    refuse_block(block, line)?;
    let all = words(line);
    // The family, for `default`: from any address on the line.
    let ipv6 = all.iter().any(|w| {
        w.split('/')
            .next()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|a| a.is_ipv6())
    });
    let mut kind = RouteKind::Unicast;
    let mut destination = None;
    let mut source = None;
    let mut gateway = None;
    let mut dev = None;
    let mut table_id = None;
    let mut metric = None;
    let mut scope_value = None;
    let mut protocol_value = PROTOCOL_KEEPALIVED;
    let mut no_track = false;
    let mut onlink = false;
    let mut nexthops = Vec::new();
    let mut words = all.into_iter();
    while let Some(word) = words.next() {
        match word {
            "nexthop" => {
                nexthops_from(block, line, &mut words, &mut nexthops, warnings)?;
                break;
            }
            "or" => {
                // keepalived 2.2.7 turns `via A or B` into a path per
                // gateway, each without an interface (a `dev` on the line
                // stays the route's), and says so.
                if nexthops.is_empty() {
                    let Some(first) = gateway.take() else {
                        return Err(Problem::Refused(error_at(
                            &line.span,
                            format!("{block}: 'or' needs a 'via' gateway before it"),
                        )));
                    };
                    warn_keepalived_error_at(
                        warnings,
                        &line.span,
                        "\"or\" for routes is deprecated. Please use \"nexthop\"".to_string(),
                    );
                    nexthops.push(Nexthop::via(first));
                }
                let text = value(block, line, &mut words, word)?;
                nexthops.push(Nexthop::via(ip_address(line, text)?));
            }
            "src" => {
                let text = value(block, line, &mut words, word)?;
                source = Some(ip_address(line, text).map_err(|e| unreadable(block, e))?);
            }
            "to" => {
                let text = value(block, line, &mut words, word)?;
                destination = Some(prefix(block, line, text, ipv6)?);
            }
            "blackhole" | "unreachable" | "prohibit" if destination.is_none() => {
                kind = match word {
                    "blackhole" => RouteKind::Blackhole,
                    "unreachable" => RouteKind::Unreachable,
                    _ => RouteKind::Prohibit,
                };
            }
            "via" | "gw" => {
                let text = value(block, line, &mut words, word)?;
                gateway = Some(ip_address(line, text).map_err(|e| unreadable(block, e))?);
            }
            "dev" | "oif" => {
                let text = value(block, line, &mut words, word)?;
                dev = Some(interface_value(block, line, word, text)?);
            }
            "table" => {
                let text = value(block, line, &mut words, word)?;
                table_id = Some(table(text).ok_or_else(|| {
                    bad_value(block, word, "a table (main, local, default or 1..)", text)
                })?);
            }
            "metric" | "priority" | "preference" => {
                let text = value(block, line, &mut words, word)?;
                metric =
                    Some(u32_value(text).ok_or_else(|| bad_value(block, word, "a number", text))?);
            }
            "scope" => {
                let text = value(block, line, &mut words, word)?;
                scope_value = Some(scope(text).ok_or_else(|| {
                    bad_value(
                        block,
                        word,
                        "a scope (host, link, site, global, nowhere or 0..255)",
                        text,
                    )
                })?);
            }
            // keepalived 2.2.7 knows only `protocol`: `proto` falls to the
            // unknown words below, which drop the route as it does.
            "protocol" => {
                let text = value(block, line, &mut words, word)?;
                protocol_value = protocol(text)
                    .ok_or_else(|| bad_value(block, word, "a protocol name or 0..255", text))?;
            }
            "no_track" => no_track = true,
            "onlink" => onlink = true,
            _ if destination.is_none()
                && (word == "default"
                    || word
                        .split('/')
                        .next()
                        .is_some_and(|a| a.parse::<IpAddr>().is_ok())) =>
            {
                destination = Some(prefix(block, line, word, ipv6)?);
            }
            other if KEEPALIVED_ROUTE_WORDS.contains(&other) => {
                return Err(Problem::Refused(error_at(
                    &line.span,
                    format!(
                        "{block}: route option '{other}' is not supported by keepvip \
                         (a route without it would not be keepalived's)"
                    ),
                )))
            }
            other => {
                return Err(Problem::Skipped(format!(
                    "{block}: unknown route keyword '{other}'"
                )))
            }
        }
    }
    let Some((destination, prefix_len)) = destination else {
        return Err(Problem::Skipped(format!(
            "{block}: the route has no destination"
        )));
    };
    for (what, addr) in [("src", source), ("via", gateway)] {
        if addr.is_some_and(|a| a.is_ipv6() != destination.is_ipv6()) {
            return Err(Problem::Skipped(format!(
                "{block}: {what} is not of the destination's family"
            )));
        }
    }
    let gateways = nexthops.iter().filter_map(|n| n.gateway);
    if gateways
        .clone()
        .any(|g| g.is_ipv6() != destination.is_ipv6())
    {
        return Err(Problem::Refused(error_at(
            &line.span,
            format!("{block}: a nexthop's via is not of the destination's family"),
        )));
    }
    // keepalived finds a tracked route by its protocol, so it marks every
    // route it tracks as its own.
    if protocol_value != PROTOCOL_KEEPALIVED && !no_track {
        warn_keepalived_error_at(
            warnings,
            &line.span,
            format!(
                "{block}: Route cannot be tracked if protocol is not \
                 RTPROT_KEEPALIVED({PROTOCOL_KEEPALIVED}), resetting protocol"
            ),
        );
        protocol_value = PROTOCOL_KEEPALIVED;
    }
    // keepalived takes it, and the kernel refuses it ("No such device").
    let paths = nexthops
        .iter()
        .any(|n| n.gateway.is_some() || n.dev.is_some());
    if kind == RouteKind::Unicast && gateway.is_none() && dev.is_none() && !paths {
        return Err(Problem::Skipped(format!(
            "{block}: a route to {destination}/{prefix_len} needs 'via' or 'dev'"
        )));
    }
    Ok(Route {
        kind,
        destination,
        prefix_len,
        source,
        gateway,
        dev,
        table: table_id,
        metric,
        scope: scope_value,
        protocol: protocol_value,
        no_track,
        onlink,
        nexthops,
        span: line.span.clone(),
    })
}

impl Nexthop {
    fn via(gateway: IpAddr) -> Nexthop {
        Nexthop {
            gateway: Some(gateway),
            dev: None,
            weight: 1,
            onlink: false,
        }
    }
}

/// The paths after a route's first `nexthop`. keepalived 2.2.7 reads
/// nothing else after them: another option is warned about in its words
/// ("Route has trailing nonsense after nexthops - table") and the rest of
/// the line ignored, so the route is installed without it, here as there.
fn nexthops_from<'a>(
    block: &str,
    line: &Statement,
    words: &mut impl Iterator<Item = &'a str>,
    nexthops: &mut Vec<Nexthop>,
    warnings: &mut Vec<Warning>,
) -> Result<(), Problem> {
    nexthops.push(Nexthop {
        gateway: None,
        dev: None,
        weight: 1,
        onlink: false,
    });
    while let Some(word) = words.next() {
        let Some(path) = nexthops.last_mut() else {
            break;
        };
        match word {
            "nexthop" => nexthops.push(Nexthop {
                gateway: None,
                dev: None,
                weight: 1,
                onlink: false,
            }),
            "via" | "gw" => {
                let text = value(block, line, words, word)?;
                path.gateway = Some(ip_address(line, text)?);
            }
            "dev" => {
                let text = value(block, line, words, word)?;
                path.dev = Some(interface_value(block, line, word, text)?);
            }
            "weight" => {
                let text = value(block, line, words, word)?;
                path.weight = text
                    .parse::<u16>()
                    .ok()
                    .filter(|w| (1..=256).contains(w))
                    .ok_or_else(|| {
                        error_at(
                            &line.span,
                            format!("{block}: {word}: expected a weight 1..256, found \"{text}\""),
                        )
                    })?;
            }
            "onlink" => path.onlink = true,
            other => {
                warn_keepalived_error_at(
                    warnings,
                    &line.span,
                    format!("Route has trailing nonsense after nexthops - {other}"),
                );
                break;
            }
        }
    }
    if let Some(empty) = nexthops
        .iter()
        .position(|n| n.gateway.is_none() && n.dev.is_none())
    {
        return Err(Problem::Refused(error_at(
            &line.span,
            format!("{block}: nexthop {} needs 'via' or 'dev'", empty + 1),
        )));
    }
    Ok(())
}

fn rule(block: &str, line: &Statement) -> Result<Rule, Problem> {
    refuse_block(block, line)?;
    let all = words(line);
    let mut ipv6 = all.iter().any(|w| {
        w.split('/')
            .next()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|a| a.is_ipv6())
    });
    let mut rule = Rule {
        ipv6,
        from: None,
        to: None,
        iif: None,
        oif: None,
        fwmark: None,
        priority: None,
        table: 0,
        no_track: false,
        span: line.span.clone(),
    };
    let mut words = all.into_iter();
    while let Some(word) = words.next() {
        match word {
            "from" | "to" => {
                let text = value(block, line, &mut words, word)?;
                let address = text.split('/').next().unwrap_or(text);
                let named = matches!(text, "all" | "default");
                if !named && address.parse::<IpAddr>().is_err() {
                    return Err(Problem::Skipped(format!(
                        "{block}: invalid rule {word} address '{text}'"
                    )));
                }
                let (addr, len) = prefix(block, line, text, ipv6)?;
                let slot = if word == "from" {
                    &mut rule.from
                } else {
                    &mut rule.to
                };
                // `from all`: no selector.
                *slot = (text != "all").then_some((addr, len));
            }
            "iif" | "dev" => {
                let text = value(block, line, &mut words, word)?;
                rule.iif = Some(interface_value(block, line, word, text)?);
            }
            "oif" => {
                let text = value(block, line, &mut words, word)?;
                rule.oif = Some(interface_value(block, line, word, text)?);
            }
            "fwmark" => {
                let text = value(block, line, &mut words, word)?;
                let (mark, mask) = match text.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (text, None),
                };
                let expected = "a mark, optionally /MASK (decimal or 0x hex)";
                let mark = u32_value(mark).ok_or_else(|| bad_value(block, word, expected, text))?;
                let mask = match mask {
                    Some(m) => {
                        Some(u32_value(m).ok_or_else(|| bad_value(block, word, expected, text))?)
                    }
                    None => None,
                };
                rule.fwmark = Some((mark, mask));
            }
            "priority" | "preference" => {
                let text = value(block, line, &mut words, word)?;
                rule.priority =
                    Some(u32_value(text).ok_or_else(|| bad_value(block, word, "a number", text))?);
            }
            "table" | "lookup" if rule.table != 0 => {
                return Err(Problem::Skipped(format!("{block}: more than one table")));
            }
            "table" | "lookup" => {
                let text = value(block, line, &mut words, word)?;
                rule.table = table(text).ok_or_else(|| {
                    bad_value(block, word, "a table (main, local, default or 1..)", text)
                })?;
            }
            // keepalived takes the word after `inet`/`inet6` with it and
            // then misreads the rest, so only a last one keeps the rule.
            "inet6" | "inet" if words.len() > 0 => {
                return Err(Problem::Skipped(format!(
                    "{block}: '{word}' before other words"
                )));
            }
            "inet6" => ipv6 = true,
            "inet" => ipv6 = false,
            "no_track" => rule.no_track = true,
            other if !KEEPALIVED_RULE_WORDS.contains(&other) => {
                return Err(Problem::Skipped(format!(
                    "{block}: unknown rule option '{other}'"
                )));
            }
            other => {
                return Err(Problem::Refused(error_at(
                    &line.span,
                    format!(
                        "{block}: rule option '{other}' is not supported by keepvip \
                         (a rule without it would not be keepalived's)"
                    ),
                )))
            }
        }
    }
    rule.ipv6 = ipv6;
    if rule.table == 0 {
        return Err(Problem::Skipped(format!(
            "{block}: no table, so no action for the rule"
        )));
    }
    for (addr, _) in rule.from.iter().chain(&rule.to) {
        if addr.is_ipv6() != ipv6 {
            return Err(Problem::Skipped(format!(
                "{block}: one rule cannot mix IPv4 and IPv6"
            )));
        }
    }
    Ok(rule)
}

impl std::fmt::Display for Route {
    /// In keepalived's (and `ip route`'s) words, for `keepvip -t`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            RouteKind::Unicast => {}
            RouteKind::Blackhole => f.write_str("blackhole ")?,
            RouteKind::Unreachable => f.write_str("unreachable ")?,
            RouteKind::Prohibit => f.write_str("prohibit ")?,
        }
        write!(f, "{}/{}", self.destination, self.prefix_len)?;
        if let Some(source) = self.source {
            write!(f, " src {source}")?;
        }
        if let Some(gateway) = self.gateway {
            write!(f, " via {gateway}")?;
        }
        if let Some(dev) = &self.dev {
            write!(f, " dev {dev}")?;
        }
        if let Some(table) = self.table {
            write!(f, " table {table}")?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        if let Some(scope) = self.scope {
            write!(f, " scope {scope}")?;
        }
        write!(f, " proto {}", self.protocol)?;
        if self.onlink {
            f.write_str(" onlink")?;
        }
        for path in &self.nexthops {
            f.write_str(" nexthop")?;
            if let Some(gateway) = path.gateway {
                write!(f, " via {gateway}")?;
            }
            if let Some(dev) = &path.dev {
                write!(f, " dev {dev}")?;
            }
            write!(f, " weight {}", path.weight)?;
            if path.onlink {
                f.write_str(" onlink")?;
            }
        }
        if self.no_track {
            f.write_str(" no_track")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.from {
            Some((addr, len)) => write!(f, "from {addr}/{len}")?,
            None => f.write_str("from all")?,
        }
        if let Some((addr, len)) = self.to {
            write!(f, " to {addr}/{len}")?;
        }
        if let Some(iif) = &self.iif {
            write!(f, " iif {iif}")?;
        }
        if let Some(oif) = &self.oif {
            write!(f, " oif {oif}")?;
        }
        if let Some((mark, mask)) = self.fwmark {
            write!(f, " fwmark {mark:#x}")?;
            if let Some(mask) = mask {
                write!(f, "/{mask:#x}")?;
            }
        }
        if let Some(priority) = self.priority {
            write!(f, " priority {priority}")?;
        }
        write!(f, " table {}", self.table)?;
        if self.ipv6 {
            f.write_str(" inet6")?;
        }
        Ok(())
    }
}

/// keepalived gives a rule without `priority` its own, counting down from
/// 16384 in file order ("Rule has no preference specified - setting to
/// 16384. This is probably not what you want."), where `ip rule` would
/// let the kernel pick one below the lowest in use: the same words and
/// numbers here, so that both daemons install the same rules.
pub(crate) fn default_rule_priorities(
    rules: Vec<&mut Rule>,
    warnings: &mut Vec<super::model::Warning>,
) {
    let mut rules = rules;
    rules.sort_by(|a, b| {
        (a.span.file.as_ref(), a.span.line).cmp(&(b.span.file.as_ref(), b.span.line))
    });
    let mut next = 16384u32;
    for rule in rules.into_iter().filter(|r| r.priority.is_none()) {
        rule.priority = Some(next);
        super::values::warn_keepalived_error_at(
            warnings,
            &rule.span.clone(),
            format!("Rule has no preference specified - setting to {next}. This is probably not what you want."),
        );
        next = next.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse_str;

    fn config(text: &str) -> Result<crate::config::Config, String> {
        parse_str(text, Path::new("r1.conf"))
            .map(|(c, _)| c)
            .map_err(|e| e.to_string())
    }

    fn instance_with(block: &str) -> String {
        format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 50\n \
             virtual_ipaddress {{\n  192.0.2.3\n }}\n{block}\n}}\n"
        )
    }

    #[test]
    fn routes_in_keepalived_syntax() {
        let c = config(&instance_with(
            " virtual_routes {\n  203.0.113.0/24 via 198.51.100.1 dev eth1 metric 7\n  \
             src 192.0.2.3 to 203.0.113.128/25 dev eth0 table 100 protocol static no_track scope link\n  \
             blackhole 198.51.100.128/25\n  unreachable default table main\n  \
             prohibit 2001:db8:1::/48 no_track\n  default gw 192.0.2.1\n  \
             default via 192.0.2.1 dev eth1 onlink table 1\n }",
        ))
        .unwrap();
        let shown: Vec<String> = c.instances[0]
            .virtual_routes
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "203.0.113.0/24 via 198.51.100.1 dev eth1 metric 7 proto 18",
                "203.0.113.128/25 src 192.0.2.3 dev eth0 table 100 scope 253 proto 4 no_track",
                "blackhole 198.51.100.128/25 proto 18",
                "unreachable 0.0.0.0/0 table 254 proto 18",
                "prohibit 2001:db8:1::/48 proto 18 no_track",
                "0.0.0.0/0 via 192.0.2.1 proto 18",
                "0.0.0.0/0 via 192.0.2.1 dev eth1 table 1 proto 18 onlink",
            ]
        );
        // eth1 carries a route: tracked, as keepalived does.
        let tracked: Vec<&str> = c.instances[0]
            .track_interfaces
            .iter()
            .map(|t| t.interface.as_str())
            .collect();
        assert_eq!(tracked, ["eth1"]);
    }

    #[test]
    fn multipath_routes_in_both_of_keepalived_s_forms() {
        let text = instance_with(
            " virtual_routes {\n  203.0.113.0/26 metric 9 nexthop via 192.0.2.1 dev eth0 weight 2 \
             nexthop dev eth1 weight 256 onlink\n  \
             2001:db8:6::/64 via 2001:db8::1 or 2001:db8::2 or 2001:db8::3 dev eth0\n  \
             203.0.113.64/26 nexthop via 192.0.2.1 nexthop via 198.51.100.1 table 100\n }",
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        let shown: Vec<String> = c.instances[0]
            .virtual_routes
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "203.0.113.0/26 metric 9 proto 18 nexthop via 192.0.2.1 dev eth0 weight 2 \
                 nexthop dev eth1 weight 256 onlink",
                "2001:db8:6::/64 dev eth0 proto 18 nexthop via 2001:db8::1 weight 1 \
                 nexthop via 2001:db8::2 weight 1 nexthop via 2001:db8::3 weight 1",
                // keepalived 2.2.7 reads nothing after the nexthops.
                "203.0.113.64/26 proto 18 nexthop via 192.0.2.1 weight 1 \
                 nexthop via 198.51.100.1 weight 1",
            ]
        );
        let said: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            said.iter()
                .any(|w| w.contains("\"or\" for routes is deprecated. Please use \"nexthop\"")),
            "{said:?}"
        );
        assert!(
            said.iter()
                .any(|w| w.contains("Route has trailing nonsense after nexthops - table")),
            "{said:?}"
        );
        // Only the route-level dev is tracked, as keepalived does.
        let tracked: Vec<&str> = c.instances[0]
            .track_interfaces
            .iter()
            .map(|t| t.interface.as_str())
            .collect();
        assert_eq!(tracked, Vec::<&str>::new());
        for (route, expected) in [
            (
                "203.0.113.0/26 nexthop weight 2",
                "nexthop 1 needs 'via' or 'dev'",
            ),
            (
                "203.0.113.0/26 nexthop via 192.0.2.1 weight 257",
                "a weight 1..256",
            ),
            ("203.0.113.0/26 dev eth0 or 192.0.2.1", "'or' needs a 'via'"),
            (
                "203.0.113.0/26 nexthop via 2001:db8::1",
                "not of the destination's family",
            ),
        ] {
            let err = config(&instance_with(&format!(
                " virtual_routes {{\n  {route}\n }}"
            )))
            .unwrap_err();
            assert!(err.contains(expected), "{route}: {err}");
        }
    }

    #[test]
    fn rules_in_keepalived_syntax() {
        let c = config(&instance_with(
            " virtual_rules {\n  from 192.0.2.3 table 100 priority 100\n  \
             to 203.0.113.0/24 iif eth0 lookup 100 preference 101\n  \
             fwmark 0x7/0xff table 100 preference 102 oif eth1\n  from all to 2001:db8::/32 table 7\n }",
        ))
        .unwrap();
        let shown: Vec<String> = c.instances[0]
            .virtual_rules
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "from 192.0.2.3/32 priority 100 table 100",
                "from all to 203.0.113.0/24 iif eth0 priority 101 table 100",
                "from all oif eth1 fwmark 0x7/0xff priority 102 table 100",
                "from all to 2001:db8::/32 priority 16384 table 7 inet6",
            ]
        );
    }

    /// keepalived's numbering of rules without a priority, in file order.
    #[test]
    fn rules_without_a_priority_get_keepalived_s() {
        let text = format!(
            "static_rules {{\n from 192.0.2.0/24 table 1\n from 192.0.2.9 table 1 priority 5\n}}\n{}",
            instance_with(" virtual_rules {\n  to 203.0.113.0/24 table 2\n }")
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        assert_eq!(c.statics.rules[0].priority, Some(16384));
        assert_eq!(c.statics.rules[1].priority, Some(5));
        assert_eq!(c.instances[0].virtual_rules[0].priority, Some(16383));
        assert_eq!(
            warnings[0].to_string(),
            "r1.conf:2: Rule has no preference specified - setting to 16384. This is probably not \
             what you want."
        );
    }

    #[test]
    fn statics_at_the_top_level() {
        let c = config(&format!(
            "static_ipaddress {{\n 203.0.113.7/32 dev eth1 scope link\n}}\n\
             static_routes {{\n 198.51.100.200/32 dev eth1 scope link\n}}\n\
             static_rules {{\n from 203.0.113.7 table 200 priority 200\n}}\n{}",
            instance_with("")
        ))
        .unwrap();
        assert_eq!(c.statics.addresses.len(), 1);
        assert_eq!(c.statics.addresses[0].scope, Some(253));
        assert_eq!(c.statics.routes.len(), 1);
        assert_eq!(c.statics.rules[0].priority, Some(200));
    }

    #[test]
    fn what_keepvip_cannot_install_is_an_error_at_its_line() {
        let err = config(&instance_with(
            " virtual_routes {\n  203.0.113.0/24 via 198.51.100.1 mtu 1400\n }",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            "r1.conf:8: virtual_routes: route option 'mtu' is not supported by keepvip \
             (a route without it would not be keepalived's)"
        );
        // A value missing: keepalived exits ("missing a parameter after
        // keyword `metric`").
        let err = config(&instance_with(
            " virtual_routes {\n  203.0.113.0/24 dev eth1 metric\n }",
        ))
        .unwrap_err();
        assert_eq!(err, "r1.conf:8: virtual_routes: 'metric' needs a value");
    }

    /// A word keepalived 2.2.7 does not know (`gateway` for `via`) makes it
    /// skip the whole route ("unknown route keyword gateway"; watched in a
    /// namespace: the route is never installed, the others are), in
    /// virtual_routes and static_routes alike. keepvip does the same, with
    /// a warning that names the line.
    #[test]
    fn a_route_with_a_word_keepalived_does_not_know_is_dropped_as_keepalived() {
        let text = format!(
            "static_routes {{\n 198.51.100.0/25 dev eth1 gateway 198.51.100.254\n}}\n{}",
            instance_with(
                " virtual_routes {\n  203.0.113.0/24 dev eth1 gateway 198.51.100.254 onlink table 7\n  \
                 203.0.113.192/26 via 198.51.100.1 dev eth1 table 7\n }"
            )
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        assert!(c.statics.routes.is_empty());
        let shown: Vec<String> = c.instances[0]
            .virtual_routes
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            shown,
            ["203.0.113.192/26 via 198.51.100.1 dev eth1 table 7 proto 18"]
        );
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "r1.conf:2: static_routes: unknown route keyword 'gateway': this route is \
                 dropped, as keepalived 2.2.7 drops it",
                "r1.conf:11: virtual_routes: unknown route keyword 'gateway': this route is \
                 dropped, as keepalived 2.2.7 drops it",
            ]
        );
        // A word keepalived knows and keepvip does not still refuses.
        let err = config(&instance_with(
            " virtual_routes {\n  203.0.113.0/24 via 198.51.100.1 tos 4\n }",
        ))
        .unwrap_err();
        assert!(
            err.contains("route option 'tos' is not supported by keepvip"),
            "{err}"
        );
    }

    /// keepalived 2.2.7 knows `protocol`, not `proto`: a route with `proto`
    /// is dropped ("unknown route keyword proto"), and a tracked route's
    /// protocol is reset to keepalived's own ("Route cannot be tracked if
    /// protocol is not RTPROT_KEEPALIVED(18), resetting protocol"); only a
    /// `no_track` route keeps it. Watched in a namespace with `ip route`.
    #[test]
    fn route_protocol_as_keepalived_proto_dropped_tracked_reset() {
        let text = instance_with(
            " virtual_routes {\n  203.0.113.0/26 dev eth1 proto static\n  \
             203.0.113.64/26 dev eth1 proto 4 no_track\n  \
             203.0.113.128/26 via 198.51.100.1 protocol static\n  \
             203.0.113.192/26 dev eth1 protocol static no_track\n }",
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        let shown: Vec<String> = c.instances[0]
            .virtual_routes
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "203.0.113.128/26 via 198.51.100.1 proto 18",
                "203.0.113.192/26 dev eth1 proto 4 no_track",
            ]
        );
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "r1.conf:8: virtual_routes: unknown route keyword 'proto': this route is \
                 dropped, as keepalived 2.2.7 drops it",
                "r1.conf:9: virtual_routes: unknown route keyword 'proto': this route is \
                 dropped, as keepalived 2.2.7 drops it",
                "r1.conf:10: virtual_routes: Route cannot be tracked if protocol is not \
                 RTPROT_KEEPALIVED(18), resetting protocol",
            ]
        );
    }

    /// keepalived 2.2.7 drops a rule with a word it does not know
    /// ("Unknown rule option pref": `pref` is `ip rule`'s, not keepalived's),
    /// with an action it cannot read ("Invalid rule action unicast"), with
    /// two tables ("Cannot specify more than one of table/..."), or with
    /// `inet`/`inet6` anywhere but last (it takes the next word with it).
    /// Watched in a namespace with `ip rule`: only the others are installed.
    #[test]
    fn rules_keepalived_cannot_read_are_dropped_as_keepalived() {
        let text = instance_with(
            " virtual_rules {\n  from 192.0.2.1 table 100 pref 7\n  \
             from 192.0.2.2 table 101 bogusword preference 8\n  \
             from 192.0.2.3 table 102 preference 9 unicast\n  \
             from 192.0.2.4 table 103 preference 10 lookup 104\n  \
             inet6 from 2001:db8::2 table 106 preference 11\n  \
             from 2001:db8::1 table 105 preference 12 inet6\n }",
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        let shown: Vec<String> = c.instances[0]
            .virtual_rules
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(shown, ["from 2001:db8::1/128 priority 12 table 105 inet6"]);
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "r1.conf:8: virtual_rules: unknown rule option 'pref': this rule is dropped, \
                 as keepalived 2.2.7 drops it",
                "r1.conf:9: virtual_rules: unknown rule option 'bogusword': this rule is \
                 dropped, as keepalived 2.2.7 drops it",
                "r1.conf:10: virtual_rules: unknown rule option 'unicast': this rule is \
                 dropped, as keepalived 2.2.7 drops it",
                "r1.conf:11: virtual_rules: more than one table: this rule is dropped, as \
                 keepalived 2.2.7 drops it",
                "r1.conf:12: virtual_rules: 'inet6' before other words: this rule is \
                 dropped, as keepalived 2.2.7 drops it",
            ]
        );
        // A word keepalived knows and keepvip does not still refuses.
        let err = config(&instance_with(
            " virtual_rules {\n  from 192.0.2.1 table 100 preference 7 tos 4\n }",
        ))
        .unwrap_err();
        assert!(
            err.contains("rule option 'tos' is not supported by keepvip"),
            "{err}"
        );
    }

    /// A rule with no action (no `table`): keepalived 2.2.7 says "No
    /// action specified for rule - ignoring" and installs the others
    /// (watched with `ip rule`); `type blackhole` is a word it knows.
    #[test]
    fn a_rule_without_a_table_is_dropped_as_keepalived() {
        let text = instance_with(
            " virtual_rules {\n  from 192.0.2.3 priority 5\n  \
             from 192.0.2.4 table 7 priority 6\n }",
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        let shown: Vec<String> = c.instances[0]
            .virtual_rules
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(shown, ["from 192.0.2.4/32 priority 6 table 7"]);
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "r1.conf:8: virtual_rules: no table, so no action for the rule: this rule is \
              dropped, as keepalived 2.2.7 drops it"
            ]
        );
        let err = config(&instance_with(
            " virtual_rules {\n  from 192.0.2.3 priority 5 type blackhole\n }",
        ))
        .unwrap_err();
        assert!(
            err.contains("rule option 'type' is not supported by keepvip"),
            "{err}"
        );
    }

    /// Values keepalived 2.2.7 cannot read, or a line it cannot use (no
    /// destination, families mixed, no way out): it skips the line with a
    /// warning ("Routing table xyz not found for route", "Invalid metric
    /// abc specified for route", "Cannot mix IPv4 and IPv6 addresses for
    /// route", "Invalid rule fwmark zz specified", ...; a route with no
    /// via or dev it takes and the kernel refuses) and runs the others:
    /// watched in a namespace with `ip route`/`ip rule`.
    #[test]
    fn route_and_rule_values_keepalived_cannot_read_drop_the_line_as_keepalived() {
        let routes = [
            "dev eth1",
            "203.0.113.0/28",
            "203.0.113.16/28 via 2001:db8::1",
            "203.0.113.32/28 src 2001:db8::1 dev eth1",
            "203.0.113.48/28 dev eth1 table xyz",
            "203.0.113.64/28 dev eth1 metric abc",
            "203.0.113.80/28 dev eth1 scope bogus",
            "203.0.113.96/28 dev eth1 protocol bogus no_track",
            "203.0.113.112/28 via 192.0.2.",
            "203.0.113.128/28 src bogus dev eth1",
            "203.0.113.144/28 dev eth1",
        ];
        let rules = [
            "from 192.0.2.1 to 2001:db8::/32 table 1 priority 1",
            "from 192.0.2.2 table 100 priority 2 fwmark zz",
            "from 192.0.2.3 table xyz priority 3",
            "from 192.0.2.4 table 100 priority abc",
            "from 192.0.2.5 table 100 priority 5",
        ];
        let text = instance_with(&format!(
            " virtual_routes {{\n  {}\n }}\n virtual_rules {{\n  {}\n }}",
            routes.join("\n  "),
            rules.join("\n  ")
        ));
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        let instance = &c.instances[0];
        let shown: Vec<String> = instance
            .virtual_routes
            .iter()
            .map(|r| r.to_string())
            .chain(instance.virtual_rules.iter().map(|r| r.to_string()))
            .collect();
        assert_eq!(
            shown,
            [
                "203.0.113.144/28 dev eth1 proto 18",
                "from 192.0.2.5/32 priority 5 table 100"
            ]
        );
        let dropped: Vec<String> = warnings
            .iter()
            .map(|w| w.to_string())
            .filter(|w| w.contains("is dropped, as keepalived 2.2.7 drops it"))
            .collect();
        assert_eq!(
            dropped.len(),
            routes.len() - 1 + rules.len() - 1,
            "{dropped:#?}"
        );
        assert!(
            dropped[4].starts_with(
                "r1.conf:12: virtual_routes: table: expected a table (main, local, default or \
                 1..), found \"xyz\": this route is dropped"
            ),
            "{dropped:#?}"
        );
    }

    /// A rule whose `from` or `to` is no address (`203.0.113./24`):
    /// keepalived 2.2.7 says "Invalid rule to address 203.0.113./24" and
    /// installs the other rules only (watched in a namespace).
    #[test]
    fn a_rule_with_a_malformed_address_is_dropped_as_keepalived() {
        let text = format!(
            "static_rules {{\n from 198.51.100.0/24 table 5 priority 200\n \
             to 198.51.100./24 table 5 priority 201\n}}\n{}",
            instance_with(
                " virtual_rules {\n  from 203.0.113.0/24 table 7 priority 300\n  \
                 from 203.0.113.5 to 203.0.113. table 7 priority 302\n }"
            )
        );
        let (c, warnings) = parse_str(&text, Path::new("r1.conf")).unwrap();
        let priorities = |rules: &[super::Rule]| -> Vec<Option<u32>> {
            rules.iter().map(|r| r.priority).collect()
        };
        assert_eq!(priorities(&c.statics.rules), [Some(200)]);
        assert_eq!(priorities(&c.instances[0].virtual_rules), [Some(300)]);
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "r1.conf:3: static_rules: invalid rule to address '198.51.100./24': this rule \
                 is dropped, as keepalived 2.2.7 drops it",
                "r1.conf:13: virtual_rules: invalid rule to address '203.0.113.': this rule is \
                 dropped, as keepalived 2.2.7 drops it",
            ]
        );
    }

    /// As keepalived: a static address without `dev` goes on
    /// default_interface, eth0 unless global_defs says otherwise.
    #[test]
    fn static_addresses_default_to_default_interface() {
        let statics = "static_ipaddress {\n 203.0.113.7/32\n}\n";
        let c = config(&format!("{statics}{}", instance_with(""))).unwrap();
        assert_eq!(c.statics.addresses[0].dev.as_deref(), Some("eth0"));
        let global = "global_defs {\n default_interface eth1\n}\n";
        let c = config(&format!("{global}{statics}{}", instance_with(""))).unwrap();
        assert_eq!(c.statics.addresses[0].dev.as_deref(), Some("eth1"));
    }
}
