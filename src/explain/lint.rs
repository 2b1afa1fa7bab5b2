//! What makes a set of routers misbehave, found from their configs alone.

use super::{at, Group, RouterConfig};
use crate::config::{Authentication, Span};
use crate::tracking::verdict::Effect;
use crate::vrrp::instance::PRIORITY_OWNER;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Certain to split the brain or stall the election.
    Error,
    /// Likely not what was meant.
    Warning,
    /// Worth knowing.
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub router: String,
    pub span: Span,
    pub message: String,
}

/// The parser's own warnings that change failover behaviour: nopreempt
/// (or preempt_delay) cleared by `state MASTER` or priority 255.
pub fn config_warnings(routers: &[RouterConfig]) -> Vec<Finding> {
    routers
        .iter()
        .flat_map(|router| {
            router
                .warnings
                .iter()
                .filter(|w| w.message.contains("nopreempt") || w.message.contains("preempt delay"))
                .map(|w| Finding {
                    severity: Severity::Warning,
                    router: router.name.clone(),
                    span: w.span.clone(),
                    message: format!(
                        "{} (keepalived clears it too: use state BACKUP for non-preemptive failover)",
                        w.message
                    ),
                })
        })
        .collect()
}

pub fn group_findings(group: &Group) -> Vec<Finding> {
    let mut findings = Vec::new();
    let members = &group.members;
    let vrid = &group.label;
    let Some(first) = members.first() else {
        return findings;
    };
    if members.len() == 1 {
        findings.push(Finding {
            severity: Severity::Note,
            router: first.router.clone(),
            span: at(first),
            message: format!(
                "{vrid}: only {} has it; it will always be master",
                first.router
            ),
        });
        return findings;
    }
    for other in &members[1..] {
        let finding = |severity, message: String| Finding {
            severity,
            router: other.router.clone(),
            span: at(other),
            message,
        };
        if other.instance.advert_int_cs != first.instance.advert_int_cs {
            findings.push(finding(
                Severity::Error,
                format!(
                    "{vrid}: advert_int {} s on {} but {} s on {}: VRRPv2 routers drop each other's adverts, so both become master (split brain)",
                    other.instance.advert_int_cs as f64 / 100.0,
                    other.router,
                    first.instance.advert_int_cs as f64 / 100.0,
                    first.router
                ),
            ));
        }
        match (&first.instance.authentication, &other.instance.authentication) {
            (None, None) => {}
            (Some(Authentication::Password(a)), Some(Authentication::Password(b))) if a == b => {}
            (Some(Authentication::Ah(a)), Some(Authentication::Ah(b))) if a == b => {}
            (Some(_), Some(_)) => findings.push(finding(
                Severity::Error,
                format!(
                    "{vrid}: auth_pass differs between {} and {}: each drops the other's adverts, so both become master (split brain)",
                    first.router, other.router
                ),
            )),
            _ => findings.push(finding(
                Severity::Error,
                format!(
                    "{vrid}: authentication on one of {} and {} only: each drops the other's adverts, so both become master (split brain)",
                    first.router, other.router
                ),
            )),
        }
        // Only the advertised lists meet on the wire; excluded addresses
        // may differ freely.
        let mut ours: Vec<_> = first
            .instance
            .advertised_addresses()
            .map(|v| v.addr)
            .collect();
        let mut theirs: Vec<_> = other
            .instance
            .advertised_addresses()
            .map(|v| v.addr)
            .collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        if ours != theirs {
            findings.push(finding(
                Severity::Warning,
                format!(
                    "{vrid}: virtual_ipaddress differs between {} and {}: keepvip and keepalived 2.3.3 accept such adverts, but keepalived 2.2.7 drops them (two masters)",
                    first.router, other.router
                ),
            ));
        }
    }

    // Equal priorities: the tie-break is the primary address, which the
    // configs do not tell.
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            if a.instance.priority == b.instance.priority && a.instance.priority != PRIORITY_OWNER {
                findings.push(Finding {
                    severity: Severity::Note,
                    router: b.router.clone(),
                    span: at(b),
                    message: format!(
                        "{vrid}: {} and {} both have priority {}: the one with the higher primary address on its interface wins",
                        a.router, b.router, a.instance.priority
                    ),
                });
            }
        }
    }

    // nopreempt only matters on a router that comes back with a higher
    // priority than the master: on any other it does nothing.
    let highest = members
        .iter()
        .map(|m| m.instance.priority)
        .max()
        .unwrap_or(0);
    let lowest = members
        .iter()
        .map(|m| m.instance.priority)
        .min()
        .unwrap_or(0);
    let any_nopreempt = members.iter().any(|m| !m.instance.preempt);
    for member in members {
        let top = member.instance.priority == highest;
        let strictly_lowest = member.instance.priority == lowest
            && members
                .iter()
                .filter(|m| m.instance.priority == lowest)
                .count()
                == 1;
        if !member.instance.preempt && strictly_lowest {
            findings.push(Finding {
                severity: Severity::Warning,
                router: member.router.clone(),
                span: at(member),
                message: format!(
                    "{vrid}: nopreempt on {} (priority {}) has no effect: it never returns to find a lower-priority master",
                    member.router, member.instance.priority
                ),
            });
        }
        if any_nopreempt && top && member.instance.preempt {
            findings.push(Finding {
                severity: Severity::Warning,
                router: member.router.clone(),
                span: at(member),
                message: format!(
                    "{vrid}: {} has the highest priority ({}) and preempts: it takes the VIP back whenever it returns; for non-preemptive failover it needs nopreempt (and state BACKUP)",
                    member.router, member.instance.priority
                ),
            });
        }
    }

    // A script weight that can never change who is master.
    for member in members {
        let p = i32::from(member.instance.priority);
        let others = members
            .iter()
            .filter(|m| m.router != member.router)
            .map(|m| i32::from(m.instance.priority))
            .max()
            .unwrap_or(0);
        for (tracked, weight) in member
            .instance
            .track_scripts
            .iter()
            .zip(&member.check_weights)
        {
            // The shift while passing and while failing; one of them is 0.
            let (Effect::Shift(passing), Effect::Shift(failing)) =
                (weight.effect(Some(true)), weight.effect(Some(false)))
            else {
                // FAULT always moves the VIP away.
                continue;
            };
            let shift = passing + failing;
            let (a, b) = (p + passing, p + failing);
            let above = a > others && b > others;
            let below = a < others && b < others;
            if shift != 0 && (above || below) && member.instance.priority != PRIORITY_OWNER {
                let reverse = if weight.reverse { " reverse" } else { "" };
                findings.push(Finding {
                    severity: Severity::Warning,
                    router: member.router.clone(),
                    span: tracked.span.clone(),
                    message: format!(
                        "{vrid}: weight {}{reverse} on {} cannot change the master: {p} {} {} = {} is still {} {others}",
                        weight.value,
                        member.router,
                        if shift < 0 { "-" } else { "+" },
                        shift.abs(),
                        p + shift,
                        if above { "above" } else { "below" },
                    ),
                });
            }
        }
    }
    findings
}
