//! Routes and rules a master owns (`virtual_routes`, `virtual_rules`) and
//! those owned from start to stop (`static_ipaddress`, `static_routes`,
//! `static_rules`), with keepalived 2.2.7's order and words: on becoming
//! master "setting Virtual Routes" then "setting Virtual Rules" after the
//! VIPs; on leaving "removing Virtual Rules", "removing Virtual Routes",
//! then the VIPs. Whatever someone else deletes is put back, as VIPs are.
//!
//! Interfaces are looked up by name each time: a re-created interface has
//! another index, and a route on an interface that is gone simply fails
//! (logged) until it is back.

use std::io;

use log::{info, warn};

use super::Daemon;
use crate::config::{Config, Route, RouteKind, Rule, StaticConfig};
use crate::sys::interface::ifindex;
use crate::sys::rtnetlink::RtNetlink;
use crate::sys::rtnetlink_routes::{NexthopSpec, RouteSpec, RouteType, RuleSpec};
use crate::vrrp::instance::State;

/// RTPROT_KEEPALIVED: rules are marked as keepalived marks its own.
const PROTOCOL_KEEPALIVED: u8 = 18;

fn route_spec(route: &Route) -> io::Result<RouteSpec> {
    let oif = match &route.dev {
        Some(dev) => Some(ifindex(dev)?),
        None => None,
    };
    Ok(RouteSpec {
        kind: match route.kind {
            RouteKind::Unicast => RouteType::Unicast,
            RouteKind::Blackhole => RouteType::Blackhole,
            RouteKind::Unreachable => RouteType::Unreachable,
            RouteKind::Prohibit => RouteType::Prohibit,
        },
        destination: route.destination,
        prefix_len: route.prefix_len,
        source: route.source,
        gateway: route.gateway,
        oif,
        table: route.table,
        metric: route.metric,
        scope: route.scope,
        protocol: route.protocol,
        onlink: route.onlink,
        nexthops: route
            .nexthops
            .iter()
            .map(|path| {
                Ok(NexthopSpec {
                    gateway: path.gateway,
                    oif: path.dev.as_deref().map(ifindex).transpose()?,
                    weight: path.weight,
                    onlink: path.onlink,
                })
            })
            .collect::<io::Result<_>>()?,
    })
}

fn rule_spec(rule: &Rule) -> RuleSpec {
    RuleSpec {
        ipv6: rule.ipv6,
        from: rule.from,
        to: rule.to,
        iif: rule.iif.clone(),
        oif: rule.oif.clone(),
        fwmark: rule.fwmark,
        priority: rule.priority,
        table: rule.table,
        protocol: PROTOCOL_KEEPALIVED,
    }
}

fn describe_route(route: &Route) -> String {
    format!(
        "route {}/{} ({})",
        route.destination, route.prefix_len, route.span
    )
}

fn describe_rule(rule: &Rule) -> String {
    format!("rule to table {} ({})", rule.table, rule.span)
}

/// Adds each route and rule; one already there is fine. Returns how many
/// were missing and are now there.
fn add_all(netlink: &mut RtNetlink, who: &str, routes: &[Route], rules: &[Rule]) -> usize {
    let mut added = 0;
    for route in routes {
        match route_spec(route).and_then(|spec| netlink.add_route(&spec)) {
            Ok(()) => added += 1,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => warn!("{who}cannot add {}: {e}", describe_route(route)),
        }
    }
    for rule in rules {
        match netlink.add_rule(&rule_spec(rule)) {
            Ok(()) => added += 1,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => warn!("{who}cannot add {}: {e}", describe_rule(rule)),
        }
    }
    added
}

fn remove_rules(netlink: &mut RtNetlink, who: &str, rules: &[Rule]) {
    for rule in rules {
        if let Err(e) = netlink.del_rule(&rule_spec(rule)) {
            warn!("{who}cannot remove {}: {e}", describe_rule(rule));
        }
    }
}

fn remove_routes(netlink: &mut RtNetlink, who: &str, routes: &[Route]) {
    for route in routes {
        // A route whose interface is gone went with it.
        let Ok(spec) = route_spec(route) else {
            continue;
        };
        if let Err(e) = netlink.del_route(&spec) {
            warn!("{who}cannot remove {}: {e}", describe_route(route));
        }
    }
}

impl Daemon {
    /// On becoming master, after its addresses.
    pub(super) fn set_virtual_routes(&mut self, index: usize) {
        let config = &self.instances[index].config;
        let who = format!("({}) ", config.name);
        if !config.virtual_routes.is_empty() {
            info!("({}) setting Virtual Routes", config.name);
            add_all(&mut self.netlink, &who, &config.virtual_routes, &[]);
        }
        if !config.virtual_rules.is_empty() {
            info!("({}) setting Virtual Rules", config.name);
            add_all(&mut self.netlink, &who, &[], &config.virtual_rules);
        }
    }

    /// On leaving master, and at start for what an earlier run left,
    /// before its addresses.
    pub(super) fn remove_virtual_routes(&mut self, index: usize) {
        let config = &self.instances[index].config;
        let who = format!("({}) ", config.name);
        if !config.virtual_rules.is_empty() {
            info!("({}) removing Virtual Rules", config.name);
            remove_rules(&mut self.netlink, &who, &config.virtual_rules);
        }
        if !config.virtual_routes.is_empty() {
            info!("({}) removing Virtual Routes", config.name);
            remove_routes(&mut self.netlink, &who, &config.virtual_routes);
        }
    }

    /// A master whose routes or rules changed in a reload: the old ones
    /// go, the new ones come (those in both are added back at once).
    pub(super) fn replace_virtual_routes(
        &mut self,
        old_routes: &[Route],
        old_rules: &[Rule],
        index: usize,
    ) {
        if self.instances[index].machine.state() != State::Master {
            return;
        }
        let config = &self.instances[index].config;
        let gone_rules: Vec<Rule> = old_rules
            .iter()
            .filter(|r| !config.virtual_rules.iter().any(|n| same_rule(n, r)))
            .cloned()
            .collect();
        let gone_routes: Vec<Route> = old_routes
            .iter()
            .filter(|r| !config.virtual_routes.iter().any(|n| same_route(n, r)))
            .cloned()
            .collect();
        let who = format!("({}) ", config.name);
        remove_rules(&mut self.netlink, &who, &gone_rules);
        remove_routes(&mut self.netlink, &who, &gone_routes);
        add_all(
            &mut self.netlink,
            &who,
            &config.virtual_routes,
            &config.virtual_rules,
        );
    }

    /// The static blocks of `config`, replacing those of the configuration
    /// running until now (none at start): what is no longer configured is
    /// removed, the rest added.
    pub(super) fn apply_statics(&mut self, config: &Config) {
        let old = std::mem::replace(&mut self.statics, config.statics.clone());
        let new = &self.statics;
        let gone_rules: Vec<Rule> = old
            .rules
            .iter()
            .filter(|r| !new.rules.iter().any(|n| same_rule(n, r)))
            .cloned()
            .collect();
        let gone_routes: Vec<Route> = old
            .routes
            .iter()
            .filter(|r| !new.routes.iter().any(|n| same_route(n, r)))
            .cloned()
            .collect();
        remove_rules(&mut self.netlink, "", &gone_rules);
        remove_routes(&mut self.netlink, "", &gone_routes);
        for gone in old.addresses.iter().filter(|a| {
            !new.addresses
                .iter()
                .any(|n| n.addr == a.addr && n.dev == a.dev)
        }) {
            del_static_address(&mut self.netlink, gone);
        }
        add_statics(&mut self.netlink, &self.statics, false);
    }

    /// At a graceful stop, as keepalived 2.2.7 does: static rules, routes
    /// and addresses are removed.
    pub(super) fn remove_statics(&mut self) {
        let statics = std::mem::take(&mut self.statics);
        remove_rules(&mut self.netlink, "", &statics.rules);
        remove_routes(&mut self.netlink, "", &statics.routes);
        for address in &statics.addresses {
            del_static_address(&mut self.netlink, address);
        }
    }

    /// Someone removed a route or rule (`removed`), or an interface came
    /// (back) up: put back what the static blocks and the masters own. Only
    /// the former is somebody else's doing, logged as such and counted.
    pub(super) fn restore_routes(&mut self, removed: bool) {
        add_statics(&mut self.netlink, &self.statics, true);
        for instance in &self.instances {
            if instance.machine.state() != State::Master {
                continue;
            }
            let config = &instance.config;
            let who = format!("({}) ", config.name);
            let restored = add_all(
                &mut self.netlink,
                &who,
                &config.virtual_routes,
                &config.virtual_rules,
            );
            if restored > 0 && removed {
                warn!("({}) {restored} virtual route(s)/rule(s) were removed by someone else: restored", config.name);
                self.counters.addresses_restored += restored as u64;
            } else if restored > 0 {
                info!(
                    "({}) {restored} virtual route(s)/rule(s) added on an interface that came up",
                    config.name
                );
            }
        }
    }
}

fn add_statics(netlink: &mut RtNetlink, statics: &StaticConfig, restoring: bool) {
    let mut added = 0;
    for address in &statics.addresses {
        let Some(dev) = &address.dev else { continue };
        let attributes = super::actions::address_attributes(address);
        let result = ifindex(dev).and_then(|index| {
            netlink.add_ip_with(index, address.addr, address.prefix_len, &attributes)
        });
        match result {
            Ok(()) => added += 1,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => warn!("static_ipaddress {} dev {dev}: {e}", address.addr),
        }
    }
    added += add_all(netlink, "", &statics.routes, &statics.rules);
    if restoring && added > 0 {
        info!("Put back {added} static address(es)/route(s)/rule(s) (deleted, or on an interface that came up)");
    }
}

fn del_static_address(netlink: &mut RtNetlink, address: &crate::config::VirtualAddress) {
    let Some(dev) = &address.dev else { return };
    if let Ok(index) = ifindex(dev) {
        let deleted =
            netlink.del_ip_with_peer(index, address.addr, address.prefix_len, address.peer);
        if let Err(e) = deleted {
            warn!("cannot remove static address {}: {e}", address.addr);
        }
    }
}

/// Equal but for where they were written.
fn same_route(a: &Route, b: &Route) -> bool {
    Route {
        span: b.span.clone(),
        ..a.clone()
    } == *b
}

fn same_rule(a: &Rule, b: &Rule) -> bool {
    Rule {
        span: b.span.clone(),
        ..a.clone()
    } == *b
}
