//! Compares a run with a reference run of the same scenario, and prints
//! both timelines side by side.
//!
//! The tolerance on takeover times. Both runs are timed on one clock: the
//! capture on the bridge, which stamps every packet in one place. A
//! takeover by timeout is measured from the last advert of another router
//! that the new master heard (where its master_down timer last restarted),
//! so the advert phase at the moment of the event cancels out; what is
//! left is each daemon's timer slack (keepalived's scheduler and keepvip's
//! poll both wake within a millisecond), the time to add the address and
//! send the ARP, and above all scheduling on two cores shared by both
//! daemons, tcpdump and other tests: tens of milliseconds. 60 ms holds
//! between two keepalived runs of the same scenario; priority steps in v3
//! skew are 0.4 ms at 0.1 s, far below it, so it still tells a wrong skew
//! or master_down formula (a whole interval) apart. Takeovers that do not
//! wait out a silence (preemption, a priority 0 advert, a check's verdict)
//! are measured from the action, which adds what the action itself takes
//! to show: a daemon's start-up (keepalived parses and forks a child;
//! under load, most of a second), the bridge's delay in applying
//! `mcast_flood off`, the phase of the once-a-second check, or of the
//! next advert.

use super::run::{Record, StepRecord, Takeover};
use super::scenario::{Action, Scenario};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

pub const TOLERANCE: f64 = 0.060;

/// What the action adds to a takeover measured from it.
fn slack(scenario: &Scenario, action: &Action) -> f64 {
    let advert = scenario
        .instances
        .iter()
        .map(|i| f64::from(i.advert_cs) / 100.0)
        .fold(0.0, f64::max);
    match action {
        // Spawning under load (several LANs side by side) has been seen
        // to take most of a second.
        Action::Start(_) | Action::Revive(_) => 1.0 + advert,
        // The bridge keeps flooding multicast to the port for a while
        // after `mcast_flood off` (1.2 to 1.9 s seen), the same for both.
        Action::Deafen(_) => 1.0 + advert,
        Action::CheckFail(_) | Action::CheckPass(_) => 1.0 + advert,
        Action::Reprioritize { .. } | Action::Readdress { .. } => 0.3 + advert,
        _ => advert,
    }
}

fn is_vip(scenario: &Scenario, step: usize, addr: &str) -> bool {
    [scenario.after(step), scenario.after(step + 1)]
        .iter()
        .any(|s| s.instances.iter().any(|i| i.vips.iter().any(|a| a == addr)))
}

fn advert_of(scenario: &Scenario, step: usize, addr: &str) -> f64 {
    scenario
        .after(step + 1)
        .instances
        .iter()
        .chain(&scenario.instances)
        .find(|i| i.vips.iter().chain(&i.excluded).any(|a| a == addr))
        .map_or(1.0, |i| f64::from(i.advert_cs) / 100.0)
}

/// Whether a daemon of the run reported a stall longer than the
/// tolerance: keepalived's own scheduling, not its protocol, decided it.
pub fn stalled(record: &Record) -> bool {
    record.stall > TOLERANCE
}

/// Routers that announced `addr` during step `step` within the tolerance
/// of its first announcement, and did not hold it once the step settled:
/// backups whose master_down timers ran out within scheduling noise of
/// each other (priorities a few apart, or a sync group whose members'
/// timers run at other phases), both went MASTER and one yielded. Which
/// of them fires first, and whether the other hears it in time, is a race
/// in keepalived too (seen: keepalived's r4 yielding to keepvip's r1
/// 3.6 ms after it, their timers 0.8 ms apart), below what the capture
/// can time: a crossing, not a move.
fn crossers(record: &Record, step: usize, addr: &str) -> BTreeSet<usize> {
    let s = &record.steps[step];
    let Some(first) = s.takeovers.get(addr).and_then(|t| t.first()) else {
        return BTreeSet::new();
    };
    let held = s.holders.get(addr).cloned().unwrap_or_default();
    let takeovers = &s.takeovers[addr];
    takeovers
        .iter()
        .map(|t| t.router)
        .filter(|r| !held.contains(r))
        .filter(|r| {
            takeovers
                .iter()
                .filter(|t| t.router == *r)
                .all(|t| t.at - first.at <= TOLERANCE)
        })
        .collect()
}

/// Router and instance -> the states its notify scripts reported, in
/// order. Per instance: the scripts of two instances changing state at
/// once run side by side, and which appends first is a race. A crosser's
/// MASTER and BACKUP of that step (see [`crossers`]) are left out.
fn notified_states(scenario: &Scenario, record: &Record) -> BTreeMap<(usize, String), Vec<String>> {
    let mut lines_of: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, s) in record.steps.iter().enumerate() {
        for (&r, lines) in &s.notified {
            let crossed: BTreeSet<String> = scenario
                .after(i + 1)
                .instances
                .iter()
                .chain(&scenario.after(i).instances)
                .filter(|inst| {
                    inst.vips
                        .iter()
                        .any(|a| crossers(record, i, a).contains(&r))
                })
                .map(|inst| inst.name.clone())
                .collect();
            let mut kept: Vec<String> = Vec::new();
            for line in lines {
                let (instance, state) = line.split_once(' ').unwrap_or((line, ""));
                let master = format!("{instance} MASTER");
                if crossed.contains(instance) && state == "BACKUP" {
                    if let Some(k) = kept.iter().rposition(|l| *l == master) {
                        kept.remove(k);
                        continue;
                    }
                }
                kept.push(line.clone());
            }
            lines_of.entry(r).or_default().extend(kept);
        }
    }
    // Lines written after the last step was read.
    for (&r, lines) in &record.notified {
        let seen: usize = record
            .steps
            .iter()
            .map(|s| s.notified.get(&r).map_or(0, Vec::len))
            .sum();
        lines_of
            .entry(r)
            .or_default()
            .extend(lines.iter().skip(seen).cloned());
    }
    let mut out: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for (r, lines) in lines_of {
        for line in lines {
            let (instance, state) = line.split_once(' ').unwrap_or((&line, ""));
            out.entry((r, instance.to_string()))
                .or_default()
                .push(state.to_string());
        }
    }
    out
}

/// Everything in which `test` differs from `reference`; empty if it agrees.
pub fn differences(scenario: &Scenario, reference: &Record, test: &Record) -> Vec<String> {
    let mut out = Vec::new();
    // The sequence of states each router's notify scripts reported, not
    // when (a script's start is the daemon's fork and exec).
    let (rn, tn) = (
        notified_states(scenario, reference),
        notified_states(scenario, test),
    );
    for key in rn.keys().chain(tn.keys()).collect::<BTreeSet<_>>() {
        let none = Vec::new();
        let (a, b) = (rn.get(key).unwrap_or(&none), tn.get(key).unwrap_or(&none));
        if a != b {
            out.push(format!("r{} {} notified {a:?} vs {b:?}", key.0, key.1));
        }
    }
    for (i, (r, t)) in reference.steps.iter().zip(&test.steps).enumerate() {
        let action = &scenario.steps[i].action;
        let step = format!("step {} ({action:?})", i + 1);
        if t.crashed != r.crashed {
            out.push(format!(
                "{step}: daemons exited: {:?} vs {:?}",
                r.crashed, t.crashed
            ));
        }
        for (addr, held) in &r.holders {
            let other = t.holders.get(addr).cloned().unwrap_or_default();
            if *held != other {
                out.push(format!("{step}: {addr} held by {held:?} vs {other:?}"));
            }
        }
        for (vrid, adv) in &r.advertisers {
            let other = t.advertisers.get(vrid).cloned().unwrap_or_default();
            if *adv != other {
                out.push(format!(
                    "{step}: vrid {vrid} advertised by (router, priority) {adv:?} vs {other:?}"
                ));
            }
        }
        // Who fires first when routers start at once is a race in both.
        if matches!(action, Action::Start(rs) if rs.len() > 1) {
            continue;
        }
        let addrs: BTreeSet<&String> = r.takeovers.keys().chain(t.takeovers.keys()).collect();
        for addr in addrs {
            let none = Vec::new();
            let (rt, tt) = (
                r.takeovers.get(addr).unwrap_or(&none),
                t.takeovers.get(addr).unwrap_or(&none),
            );
            // Who took over, not how often: where several backups time out
            // at once, the announcements cross and how many interleave is
            // a race in keepalived too. A router taking over where the
            // reference's did not is a transient extra move (A -> B -> A
            // where the reference stayed on A shows as B and A against
            // nobody). One taking over less often is not, unless it became
            // a holder without announcing what the reference announced.
            // (keepalived's old master may answer the new one's first
            // advert with its own burst just before it yields.)
            let rs: BTreeSet<usize> = rt.iter().map(|x| x.router).collect();
            let ts: BTreeSet<usize> = tt.iter().map(|x| x.router).collect();
            let before = i
                .checked_sub(1)
                .and_then(|p| test.steps[p].holders.get(addr.as_str()))
                .cloned()
                .unwrap_or_default();
            let new_holders: BTreeSet<usize> = t
                .holders
                .get(addr.as_str())
                .map(|h| h.difference(&before).copied().collect())
                .unwrap_or_default();
            let crossed = crossers(test, i, addr);
            let extra = ts.iter().any(|r| !rs.contains(r) && !crossed.contains(r));
            let silent = rs.intersection(&new_holders).any(|r| !ts.contains(r));
            if extra || silent {
                out.push(format!(
                    "{step}: {addr} taken over by {} vs {}",
                    show_takeovers(rt),
                    show_takeovers(tt)
                ));
                continue;
            }
            // Timed on the VIPs: an excluded IPv6 address's NA follows the
            // kernel's address setup, which varies by more than the
            // tolerance even between two keepalived runs.
            if !is_vip(scenario, i, addr) {
                continue;
            }
            let (Some(a), Some(b)) = (rt.first(), tt.first()) else {
                continue;
            };
            let advert = advert_of(scenario, i, addr);
            // A takeover by timeout: a long silence that began at most about
            // an interval before the action (a master killed between two
            // adverts), not one that spans earlier steps.
            let by_timeout = |x: &Takeover| {
                x.silence
                    .is_some_and(|s| s >= 2.0 * advert && s <= x.at + 1.5 * advert)
            };
            // A deafened router's silence is not on the bridge; a sync
            // group waits for its slowest member, whose own silence began
            // at another phase.
            let deafened = matches!(action, Action::Deafen(_)) || scenario.sync_group;
            let (what, ra, ta, tol) = if by_timeout(a) && by_timeout(b) && !deafened {
                (
                    "after silence",
                    a.silence.unwrap(),
                    b.silence.unwrap(),
                    TOLERANCE,
                )
            } else {
                (
                    "after action",
                    a.at,
                    b.at,
                    TOLERANCE + slack(scenario, action),
                )
            };
            if (ra - ta).abs() > tol {
                out.push(format!(
                    "{step}: {addr} first takeover {what} {ra:.3} s vs {ta:.3} s (tolerance {tol:.3} s)"
                ));
            }
        }
    }
    out
}

fn show_takeovers(t: &[Takeover]) -> String {
    if t.is_empty() {
        return "nobody".to_string();
    }
    t.iter()
        .map(|x| match x.silence {
            Some(s) => format!("r{}@{:.3}(quiet {:.3})", x.router, x.at, s),
            None => format!("r{}@{:.3}", x.router, x.at),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_step(s: &StepRecord) -> Vec<String> {
    let mut lines = Vec::new();
    if !s.crashed.is_empty() {
        lines.push(format!("EXITED {:?}", s.crashed));
    }
    for (addr, held) in &s.holders {
        let t = s.takeovers.get(addr).map(|t| show_takeovers(t));
        lines.push(format!(
            "{addr} -> {held:?}{}",
            t.map_or(String::new(), |t| format!(" via {t}"))
        ));
    }
    for (vrid, adv) in &s.advertisers {
        lines.push(format!("vrid {vrid} adverts {adv:?}"));
    }
    for (r, notified) in &s.notified {
        lines.push(format!("r{r} notified {}", notified.join(", ")));
    }
    lines
}

/// The scenario, its configs, its script and the timelines side by side,
/// with how to replay it.
pub fn report(scenario: &Scenario, records: &[&Record], diffs: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n======== conformance mismatch, {}",
        scenario.describe()
    );
    let _ = writeln!(
        s,
        "replay: make conformance SEED={}   (or KEEPVIP_CONFORMANCE_SEED={} cargo test --test conformance -- --ignored --nocapture)",
        scenario.seed, scenario.seed
    );
    for d in diffs {
        let _ = writeln!(s, "  * {d}");
    }
    for r in 1..=scenario.routers {
        let _ = writeln!(
            s,
            "---- r{r}.conf\n{}",
            scenario.config(r, std::path::Path::new("ROUTER_DIR"))
        );
    }
    let _ = writeln!(s, "---- script and timelines");
    let width = 58;
    let head: Vec<String> = records
        .iter()
        .map(|r| {
            let imps: Vec<&str> = r.imps.iter().map(|i| &i.name()[..5]).collect();
            let stall = if stalled(r) {
                format!(" STALLED {:.2} s", r.stall)
            } else {
                String::new()
            };
            format!("{} [{}]{stall}", r.way, imps.join(","))
        })
        .collect();
    let _ = writeln!(s, "{}", row(&head, width));
    for (i, step) in scenario.steps.iter().enumerate() {
        let _ = writeln!(
            s,
            "step {}: {:?} (settle {} ms)",
            i + 1,
            step.action,
            step.settle_ms
        );
        let cols: Vec<Vec<String>> = records.iter().map(|r| show_step(&r.steps[i])).collect();
        let lines = cols.iter().map(Vec::len).max().unwrap_or(0);
        for l in 0..lines {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| c.get(l).cloned().unwrap_or_default())
                .collect();
            let _ = writeln!(s, "{}", row(&cells, width));
        }
    }
    s
}

fn row(cells: &[String], width: usize) -> String {
    cells
        .iter()
        .map(|c| format!("  {c:<width$}"))
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::run::{Record, StepRecord, Takeover};
    use super::super::scenario::{Action, Scenario, Step};
    use super::*;
    use crate::common::Impl;

    const VIP: &str = "192.0.2.100";

    /// A one-step scenario (a kill of r1) on a two-router LAN at 0.1 s.
    fn scenario() -> Scenario {
        let mut s = Scenario::generate(8);
        s.instances.truncate(1);
        s.instances[0].vips = vec![VIP.to_string()];
        s.instances[0].excluded.clear();
        s.instances[0].advert_cs = 10;
        s.steps = vec![Step {
            action: Action::Kill(1),
            settle_ms: 1000,
        }];
        s
    }

    fn record(holder: usize, takeovers: &[(usize, f64, f64)]) -> Record {
        let mut step = StepRecord::default();
        step.holders.insert(VIP.to_string(), [holder].into());
        step.takeovers.insert(
            VIP.to_string(),
            takeovers
                .iter()
                .map(|&(router, at, silence)| Takeover {
                    router,
                    at,
                    silence: Some(silence),
                })
                .collect(),
        );
        step.advertisers.insert(50, [(holder, 100)].into());
        Record {
            way: "w".to_string(),
            imps: vec![Impl::Keepvip; 2],
            steps: vec![step],
            stall: 0.0,
            notified: BTreeMap::new(),
        }
    }

    #[test]
    fn the_same_takeover_within_the_tolerance_agrees() {
        let s = scenario();
        let reference = record(2, &[(2, 0.35, 0.38)]);
        let test = record(2, &[(2, 0.33, 0.38 + TOLERANCE * 0.9)]);
        assert_eq!(differences(&s, &reference, &test), Vec::<String>::new());
    }

    #[test]
    fn a_takeover_later_than_the_tolerance_is_a_difference() {
        let s = scenario();
        let reference = record(2, &[(2, 0.35, 0.38)]);
        // A whole interval late, as a wrong master_down would make it.
        let test = record(2, &[(2, 0.45, 0.48)]);
        let d = differences(&s, &reference, &test);
        assert!(d.iter().any(|d| d.contains("first takeover")), "{d:?}");
    }

    #[test]
    fn a_transient_move_the_reference_did_not_make_is_a_difference() {
        let s = scenario();
        // The reference kept the VIP on r2; the test went r2 -> r1 -> r2.
        let reference = record(2, &[]);
        let test = record(2, &[(1, 0.3, 0.4), (2, 0.5, 0.1)]);
        let d = differences(&s, &reference, &test);
        assert!(d.iter().any(|d| d.contains("taken over by")), "{d:?}");
    }

    #[test]
    fn backups_crossing_within_the_tolerance_agree_with_one_taking_over() {
        let s = scenario();
        let reference = record(2, &[(2, 0.35, 0.38)]);
        // r1 timed out 2 ms after r2, went MASTER and yielded.
        let mut test = record(2, &[(2, 0.35, 0.38), (1, 0.352, 0.382)]);
        test.steps[0].notified.insert(
            1,
            vec!["VI_1 MASTER".to_string(), "VI_1 BACKUP".to_string()],
        );
        test.notified.insert(1, test.steps[0].notified[&1].clone());
        assert_eq!(differences(&s, &reference, &test), Vec::<String>::new());
        // 100 ms later it is a move.
        let late = record(2, &[(2, 0.35, 0.38), (1, 0.45, 0.48)]);
        let d = differences(&s, &reference, &late);
        assert!(d.iter().any(|d| d.contains("taken over by")), "{d:?}");
    }

    #[test]
    fn fewer_crossing_announcements_agree_but_a_silent_new_holder_does_not() {
        let s = scenario();
        // keepalived's old master (r1) answered once more before yielding.
        let reference = record(2, &[(2, 0.35, 0.38), (1, 0.351, 0.001), (2, 0.36, 0.002)]);
        let test = record(2, &[(2, 0.35, 0.38)]);
        assert_eq!(differences(&s, &reference, &test), Vec::<String>::new());
        // r2 became the holder without announcing it.
        let silent = record(2, &[]);
        let d = differences(&s, &reference, &silent);
        assert!(d.iter().any(|d| d.contains("taken over by")), "{d:?}");
    }

    #[test]
    fn notify_sequences_differ_per_instance_not_in_how_instances_interleave() {
        let s = scenario();
        let with = |lines: &[&str]| {
            let mut r = record(2, &[(2, 0.35, 0.38)]);
            r.notified
                .insert(2, lines.iter().map(|l| l.to_string()).collect());
            r
        };
        let reference = with(&["VI_1 BACKUP", "VI_2 BACKUP", "VI_1 MASTER", "VI_2 MASTER"]);
        let interleaved = with(&["VI_2 BACKUP", "VI_1 BACKUP", "VI_2 MASTER", "VI_1 MASTER"]);
        assert_eq!(
            differences(&s, &reference, &interleaved),
            Vec::<String>::new()
        );
        let faulted = with(&[
            "VI_1 BACKUP",
            "VI_2 BACKUP",
            "VI_1 MASTER",
            "VI_2 MASTER",
            "VI_1 FAULT",
        ]);
        let d = differences(&s, &reference, &faulted);
        assert!(d.iter().any(|d| d.contains("r2 VI_1 notified")), "{d:?}");
    }

    #[test]
    fn another_settled_holder_or_priority_is_a_difference() {
        let s = scenario();
        let reference = record(2, &[(2, 0.35, 0.38)]);
        let test = record(1, &[(2, 0.35, 0.38)]);
        let d = differences(&s, &reference, &test);
        assert!(d.iter().any(|d| d.contains("held by")), "{d:?}");
        assert!(d.iter().any(|d| d.contains("advertised by")), "{d:?}");
    }
}
