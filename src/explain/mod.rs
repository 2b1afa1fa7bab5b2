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

/// The instances of all routers that share a VRID: one virtual router.
#[derive(Debug, Clone)]
pub struct Group {
    pub vrid: u8,
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

/// Groups every router's instances by VRID, in command-line order.
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
            match groups.iter_mut().find(|g| g.vrid == instance.vrid) {
                Some(group) => group.members.push(member),
                None => groups.push(Group {
                    vrid: instance.vrid,
                    members: vec![member],
                }),
            }
        }
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
