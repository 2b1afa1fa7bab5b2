//! The standard story, run on a simulated LAN with the daemon's own state
//! machine: who holds the VIP after each step, and why.

use super::{Group, Member};
use crate::tracking::verdict::{verdict, Tracked, Verdict};
use crate::vrrp::instance::PRIORITY_OWNER;
use crate::vrrp::simulation::SimLan;
use crate::vrrp::timers::{Micros, Timers, MICROS_PER_SECOND};

/// How long adverts take on the simulated LAN.
const LATENCY: Micros = 500;

/// How the routers of a group are started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOrder {
    /// All at the same moment.
    Together,
    /// One after the other (member indexes), each once the LAN settled.
    Sequence(Vec<usize>),
}

/// One step of the story and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What happened: "start", "r1 dies", ...
    pub event: String,
    /// Who holds the VIP afterwards (two or more: split brain).
    pub holders: Vec<String>,
    /// Why, in words.
    pub why: String,
}

/// Long enough for any election of the group to finish.
fn settle(group: &Group) -> Micros {
    let longest = group
        .members
        .iter()
        .map(|m| Timers::new(m.instance.version, 1, m.instance.advert_int_cs).master_down)
        .max()
        .unwrap_or(0);
    2 * longest + MICROS_PER_SECOND
}

fn lan(group: &Group) -> SimLan {
    let mut lan = SimLan::new(LATENCY);
    for member in &group.members {
        lan.add_router(&member.router, member.instance.clone(), member.address);
    }
    lan
}

fn start(lan: &mut SimLan, group: &Group, order: &StartOrder) {
    match order {
        StartOrder::Together => {
            for index in 0..group.members.len() {
                start_router(lan, group, index);
            }
            lan.run_for(settle(group));
        }
        StartOrder::Sequence(indexes) => {
            for index in indexes {
                start_router(lan, group, *index);
                lan.run_for(settle(group));
            }
        }
    }
}

/// Starts one router the way the daemon does with passing checks: their
/// first results come in well before its first advert (a check runs at
/// start), so their verdict is in force from then on.
fn start_router(lan: &mut SimLan, group: &Group, index: usize) {
    let member = &group.members[index];
    lan.start(index);
    let (passing, _) = tracked_verdicts(member);
    if passing != Verdict::Priority(member.instance.priority) {
        set_verdict(lan, index, member, passing);
    }
}

fn holders(lan: &SimLan) -> Vec<String> {
    lan.holders().into_iter().map(String::from).collect()
}

fn member<'g>(group: &'g Group, name: &str) -> (usize, &'g Member) {
    let index = group
        .members
        .iter()
        .position(|m| m.router == name)
        .unwrap_or(0);
    (index, &group.members[index])
}

/// What a router's checks make of it while they all pass, and while they
/// all fail: the daemon's own verdict.
fn tracked_verdicts(member: &Member) -> (Verdict, Verdict) {
    let base = member.instance.priority;
    let all = |up: bool| {
        let tracked = member.check_weights.iter().map(|&weight| Tracked {
            weight,
            up: Some(up),
        });
        match verdict(base, tracked) {
            // The owner's priority is fixed: only FAULT changes it.
            Verdict::Priority(_) if base == PRIORITY_OWNER => Verdict::Priority(base),
            v => v,
        }
    };
    (all(true), all(false))
}

/// Puts a verdict on a simulated router, as the daemon does.
fn set_verdict(lan: &mut SimLan, index: usize, member: &Member, to: Verdict) {
    match to {
        Verdict::Fault => lan.set_tracking(index, member.instance.priority, true),
        Verdict::Priority(p) => lan.set_tracking(index, p, false),
    }
}

/// Every start order with a distinct outcome: (order, master). All
/// together first, then each order of up to four routers.
pub fn start_order_outcomes(group: &Group) -> Vec<(String, String)> {
    let n = group.members.len();
    let mut orders = vec![(String::from("all together"), StartOrder::Together)];
    if (2..=4).contains(&n) {
        for order in permutations(n) {
            let names: Vec<&str> = order
                .iter()
                .map(|i| group.members[*i].router.as_str())
                .collect();
            orders.push((
                format!("{} first", names.join(", then ")),
                StartOrder::Sequence(order),
            ));
        }
    }
    let outcomes: Vec<(String, String)> = orders
        .into_iter()
        .map(|(label, order)| {
            let mut lan = lan(group);
            start(&mut lan, group, &order);
            let master = holders(&lan).join("+");
            let master = if master.is_empty() {
                "nobody".to_string()
            } else {
                master
            };
            (label, master)
        })
        .collect();
    // Every order is worth a line only if some order changes the outcome.
    if outcomes.iter().all(|(_, m)| *m == outcomes[0].1) {
        outcomes.into_iter().take(1).collect()
    } else {
        outcomes
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for rest in permutations(n - 1) {
        for slot in 0..=rest.len() {
            let mut order = rest.clone();
            order.insert(slot, n - 1);
            all.push(order);
        }
    }
    all.sort();
    all
}

/// Runs the story. It stops early where there is no single master to
/// continue from (nobody, or a split brain).
pub fn run_story(group: &Group, order: &StartOrder) -> Vec<Step> {
    let mut lan = lan(group);
    let mut steps = Vec::new();
    let settle = settle(group);
    start(&mut lan, group, order);
    let first = holders(&lan);
    steps.push(Step {
        event: match order {
            StartOrder::Together => "all start together".to_string(),
            StartOrder::Sequence(order) => {
                let names: Vec<&str> = order
                    .iter()
                    .map(|i| group.members[*i].router.as_str())
                    .collect();
                format!("start in order {}", names.join(", "))
            }
        },
        why: why_start(group, &first, order),
        holders: first.clone(),
    });
    let [master] = first.as_slice() else {
        return steps;
    };
    if group.members.len() < 2 {
        return steps;
    }
    let master = master.clone();
    let (m, _) = member(group, &master);

    lan.kill(m);
    lan.run_for(settle);
    let after_death = holders(&lan);
    steps.push(Step {
        event: format!("{master} dies"),
        why: why_takeover(group, &after_death, &master),
        holders: after_death,
    });

    start_router(&mut lan, group, m);
    lan.run_for(2 * settle);
    let after_return = holders(&lan);
    steps.push(Step {
        event: format!("{master} returns"),
        why: why_return(group, &after_return, &master),
        holders: after_return.clone(),
    });

    let [current] = after_return.as_slice() else {
        return steps;
    };
    let current = current.clone();
    let (c, c_member) = member(group, &current);
    if !c_member.check_weights.is_empty() {
        let (passing, failing) = tracked_verdicts(c_member);
        set_verdict(&mut lan, c, c_member, failing);
        lan.run_for(settle);
        let after_failure = holders(&lan);
        steps.push(Step {
            event: format!("{current}'s check fails"),
            why: why_check_failed(group, &after_failure, c_member, failing.into()),
            holders: after_failure,
        });
        set_verdict(&mut lan, c, c_member, passing);
        lan.run_for(2 * settle);
        let after_recovery = holders(&lan);
        steps.push(Step {
            event: format!("{current}'s check recovers"),
            why: why_return(group, &after_recovery, &current),
            holders: after_recovery,
        });
    }

    let now_holding = holders(&lan);
    if let [holder] = now_holding.as_slice() {
        let holder = holder.clone();
        let (h, _) = member(group, &holder);
        lan.stop(h);
        lan.run_for(settle);
        let after_stop = holders(&lan);
        let why = match after_stop.as_slice() {
            [next] => format!(
                "{holder} sends priority 0 on its way out: {next} takes over after its skew time, not master_down"
            ),
            [] => "nobody is left to take over".to_string(),
            _ => "split brain".to_string(),
        };
        steps.push(Step {
            event: format!("{holder} is stopped (SIGTERM)"),
            holders: after_stop,
            why,
        });
    }
    steps
}

fn priority(group: &Group, name: &str) -> u8 {
    member(group, name).1.instance.priority
}

fn highest_priority(group: &Group, among: impl Fn(&Member) -> bool) -> Option<u8> {
    group
        .members
        .iter()
        .filter(|m| among(m))
        .map(|m| m.instance.priority)
        .max()
}

fn why_start(group: &Group, holders: &[String], order: &StartOrder) -> String {
    match holders {
        [] => "nobody becomes master".to_string(),
        [holder] => {
            let p = priority(group, holder);
            let best = highest_priority(group, |_| true).unwrap_or(p);
            let tied = group
                .members
                .iter()
                .filter(|m| m.instance.priority == p)
                .count()
                > 1;
            if p < best {
                let first = matches!(order, StartOrder::Sequence(o) if group.members[o[0]].router == *holder);
                if first {
                    format!(
                        "{holder} started first; the routers with a higher priority do not preempt (nopreempt), so it keeps the VIP"
                    )
                } else {
                    format!("{holder} holds the VIP although its priority {p} is not the highest")
                }
            } else if tied {
                format!(
                    "{holder} wins a tie at priority {p}: equal priorities are broken by the higher primary address (assumed here in command-line order)"
                )
            } else {
                format!("{holder} has the highest priority ({p}); `state` only sets the start, priority decides")
            }
        }
        many => format!("split brain: {} are all master", many.join(" and ")),
    }
}

fn why_takeover(group: &Group, holders: &[String], dead: &str) -> String {
    match holders {
        [] => "nobody takes over".to_string(),
        [holder] => {
            let p = priority(group, holder);
            let instance = &member(group, holder).1.instance;
            let master_down = Timers::new(instance.version, p, instance.advert_int_cs).master_down;
            format!(
                "{holder} takes over when its master_down timer ({:.3} s) runs out without adverts from {dead}: highest priority left ({p})",
                master_down as f64 / 1e6
            )
        }
        many => format!("split brain: {} are all master", many.join(" and ")),
    }
}

fn why_return(group: &Group, holders: &[String], returning: &str) -> String {
    match holders {
        [holder] if holder == returning => {
            let p = priority(group, holder);
            let others = highest_priority(group, |m| m.router != *returning).unwrap_or(0);
            format!("{holder} takes back the VIP: priority {p} > {others} and {holder} preempts")
        }
        [holder] => {
            let (_, back) = member(group, returning);
            let p = back.instance.priority;
            let q = priority(group, holder);
            if p > q && !back.instance.preempt {
                format!("{holder} keeps the VIP: {returning} has the higher priority ({p} > {q}) but nopreempt")
            } else if p > q && back.instance.preempt_delay_s > 0 {
                format!(
                    "{holder} keeps the VIP for now: {returning} waits preempt_delay {} s",
                    back.instance.preempt_delay_s
                )
            } else {
                format!("{holder} keeps the VIP: {returning}'s priority {p} is not higher than {q}")
            }
        }
        [] => "nobody holds the VIP".to_string(),
        many => format!("split brain: {} are all master", many.join(" and ")),
    }
}

fn why_check_failed(group: &Group, holders: &[String], failing: &Member, to: Option<u8>) -> String {
    let name = &failing.router;
    let change = match to {
        None => format!("{name} enters FAULT (a check with weight 0)"),
        Some(p) => {
            let base = failing.instance.priority;
            let moves = match p.cmp(&base) {
                std::cmp::Ordering::Less => "drops",
                // A reversed weight: failing raises it.
                std::cmp::Ordering::Greater => "rises",
                std::cmp::Ordering::Equal => "stays",
            };
            format!("{name}'s priority {moves} from {base} to {p}")
        }
    };
    match holders {
        [holder] if holder == name => match to {
            Some(p) => {
                let others = highest_priority(group, |m| m.router != *name).unwrap_or(0);
                if p > others {
                    format!("{change}, still above {others}: the weight cannot move the VIP")
                } else {
                    format!("{change}, but no backup preempts (nopreempt): {name} keeps the VIP although its service is down")
                }
            }
            None => format!("{change}, yet keeps the VIP"),
        },
        [holder] => format!("{change}: {holder} takes the VIP"),
        [] => format!("{change}: nobody holds the VIP"),
        many => format!(
            "{change}: split brain, {} are all master",
            many.join(" and ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::verdict::Weight;

    fn member_with(priority: u8, weights: &[(i32, bool)]) -> Member {
        let instance = crate::vrrp::test_support::instance_config(
            crate::config::InitialState::Backup,
            priority,
            true,
        );
        Member {
            router: "r1".to_string(),
            instance,
            check_weights: weights.iter().map(|&(w, r)| Weight::new(w, r)).collect(),
            address: std::net::Ipv4Addr::new(192, 0, 2, 10),
        }
    }

    #[test]
    fn tracked_verdicts_follow_the_daemon() {
        use Verdict::{Fault, Priority};
        let verdicts = |p, w: &[(i32, bool)]| tracked_verdicts(&member_with(p, w));
        assert_eq!(
            verdicts(150, &[(-20, false)]),
            (Priority(150), Priority(130))
        );
        assert_eq!(
            verdicts(150, &[(-40, true)]),
            (Priority(150), Priority(190))
        );
        assert_eq!(verdicts(150, &[(10, true)]), (Priority(140), Priority(150)));
        assert_eq!(verdicts(150, &[(0, true)]), (Fault, Priority(150)));
        assert_eq!(verdicts(150, &[(0, false)]), (Priority(150), Fault));
        assert_eq!(verdicts(255, &[(0, false)]), (Priority(255), Fault));
    }

    #[test]
    fn permutations_of_three() {
        assert_eq!(permutations(3).len(), 6);
        assert!(permutations(3).contains(&vec![2, 0, 1]));
    }
}
