//! `keepvip explain`: what a set of routers' configs will do, before they
//! are deployed. The configs are read by the daemon's own parser and the
//! instances of each VRID are run, with the daemon's own state machine, on
//! a simulated LAN through the standard story: start (in every order that
//! matters), the master dies, it returns, its check fails and recovers, it
//! is stopped. Findings that make a pair misbehave are listed with
//! file:line. Pure: no sockets, no clock, no processes.

mod lint;
mod render;
mod story;

use std::net::Ipv4Addr;

use crate::config::{Config, InstanceConfig, Span, Warning};
use crate::tracking::verdict::Weight;

pub use lint::{Finding, Severity};
pub use render::{render_json, render_text};
pub use story::{run_story, StartOrder, Step};

/// One router's config, as given on the command line.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// The file's stem: `r1.conf` is `r1`.
    pub name: String,
    pub config: Config,
    pub warnings: Vec<Warning>,
}

/// One router's instance of a virtual router, with what the simulation
/// needs from the rest of its config.
#[derive(Debug, Clone)]
pub struct Member {
    pub router: String,
    pub instance: InstanceConfig,
    /// The tracked scripts' weights (0: FAULT when failing, or when
    /// passing if reversed).
    pub check_weights: Vec<Weight>,
    /// The address it is assumed to send from: `mcast_src_ip`, else one
    /// per router in command-line order (the real primary address is not
    /// in the config; it only matters for equal priorities).
    pub address: Ipv4Addr,
}

/// The instances of all routers that form one virtual router: the same
/// VRID and address family, at most one instance per router.
#[derive(Debug, Clone)]
pub struct Group {
    pub vrid: u8,
    pub ipv6: bool,
    /// The first member's interface (others may name theirs differently).
    pub interface: String,
    /// How findings and the timeline name it: "VRID 50", with "(IPv6)"
    /// and "on eth1" added where the VRID alone is ambiguous.
    pub label: String,
    pub members: Vec<Member>,
}

/// What explain found and simulated.
#[derive(Debug, Clone)]
pub struct Report {
    pub groups: Vec<GroupReport>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct GroupReport {
    pub vrid: u8,
    pub ipv6: bool,
    pub interface: String,
    pub label: String,
    pub routers: Vec<String>,
    /// Distinct outcomes of starting in different orders:
    /// (order description, master).
    pub start_orders: Vec<(String, String)>,
    pub story: Vec<Step>,
}

impl Report {
    /// A finding that certainly splits the brain or stalls the election.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Groups every router's instances into virtual routers, in command-line
/// order. A VRID is per interface and family: one router may run VRID 50
/// on eth0 and on eth1, or for IPv4 and IPv6, and those are different
/// virtual routers. Interface names are only a hint across routers (one
/// box's eth0 is another's ens3), so an instance joins the group of its
/// VRID and family that has no instance of its router yet, preferring the
/// one on an interface of the same name.
pub fn groups(routers: &[RouterConfig]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (n, router) in routers.iter().enumerate() {
        for instance in &router.config.instances {
            let member = Member {
                router: router.name.clone(),
                instance: instance.clone(),
                check_weights: instance
                    .track_scripts
                    .iter()
                    .map(|t| Weight::new(t.weight, t.reverse))
                    .collect(),
                address: match instance.source_address() {
                    Some(std::net::IpAddr::V4(source)) => source,
                    _ => Ipv4Addr::new(192, 0, 2, 10 + (n as u8).min(200)),
                },
            };
            let ipv6 = instance.is_ipv6();
            let mut open = groups.iter_mut().filter(|g| {
                g.vrid == instance.vrid
                    && g.ipv6 == ipv6
                    && g.members.iter().all(|m| m.router != router.name)
            });
            let (mut same_name, mut first) = (None, None);
            for group in &mut open {
                if group.interface == instance.interface {
                    same_name = Some(group);
                    break;
                }
                first.get_or_insert(group);
            }
            match same_name.or(first) {
                Some(group) => group.members.push(member),
                None => groups.push(Group {
                    vrid: instance.vrid,
                    ipv6,
                    interface: instance.interface.clone(),
                    label: String::new(),
                    members: vec![member],
                }),
            }
        }
    }
    for n in 0..groups.len() {
        let group = &groups[n];
        let mut label = format!("VRID {}", group.vrid);
        if group.ipv6 {
            label.push_str(" (IPv6)");
        }
        let namesakes = groups
            .iter()
            .filter(|g| g.vrid == group.vrid && g.ipv6 == group.ipv6)
            .count();
        if namesakes > 1 {
            label.push_str(&format!(" on {}", group.interface));
        }
        groups[n].label = label;
    }
    groups
}

/// Explains a set of routers.
pub fn explain(routers: &[RouterConfig]) -> Report {
    let groups = groups(routers);
    let mut findings = lint::config_warnings(routers);
    let mut reports = Vec::new();
    for group in &groups {
        findings.extend(lint::group_findings(group));
        reports.push(GroupReport {
            vrid: group.vrid,
            ipv6: group.ipv6,
            interface: group.interface.clone(),
            label: group.label.clone(),
            routers: group.members.iter().map(|m| m.router.clone()).collect(),
            start_orders: story::start_order_outcomes(group),
            story: run_story(group, &StartOrder::Together),
        });
    }
    Report {
        groups: reports,
        findings,
    }
}

/// The span of an instance, for findings.
fn at(member: &Member) -> Span {
    member.instance.span.clone()
}

#[cfg(test)]
mod tests;
