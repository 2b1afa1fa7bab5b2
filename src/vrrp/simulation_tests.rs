//! The seed article's cases on a simulated LAN: who holds the VIP at start,
//! after the master dies, and after it returns.

use super::*;
use crate::config::InitialState::{self, Backup, Master};
use crate::vrrp::test_support::instance_config;

const R1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);
const R2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 12);
/// Long enough for any election at 1 s adverts (master_down < 4 s).
const SETTLE: u64 = 6;

fn lan(r1: (InitialState, u8, bool), r2: (InitialState, u8, bool)) -> SimLan {
    let mut lan = SimLan::new(500);
    lan.add_router("r1", instance_config(r1.0, r1.1, r1.2), R1);
    lan.add_router("r2", instance_config(r2.0, r2.1, r2.2), R2);
    lan
}

fn assert_holder(lan: &SimLan, expected: &str, step: &str) {
    assert_eq!(lan.holders(), vec![expected], "holder {step}");
    assert_eq!(lan.masters(), vec![expected], "master {step}");
}

/// Both start together; `first` dies and comes back.
fn start_die_return(lan: &mut SimLan, first: usize) {
    lan.start(0);
    lan.start(1);
    lan.run_secs(SETTLE);
    lan.kill(first);
    lan.run_secs(SETTLE);
    lan.start(first);
    lan.run_secs(SETTLE);
}

fn holders_at_each_step(mut lan: SimLan, die: usize) -> Vec<String> {
    let mut steps = Vec::new();
    lan.start(0);
    lan.start(1);
    lan.run_secs(SETTLE);
    steps.push(lan.holders().join(","));
    lan.kill(die);
    lan.run_secs(SETTLE);
    steps.push(lan.holders().join(","));
    lan.start(die);
    lan.run_secs(SETTLE);
    steps.push(lan.holders().join(","));
    steps
}

#[test]
fn case1_both_master_higher_wins_and_preempts_back() {
    let lan = lan((Master, 150, true), (Master, 100, true));
    assert_eq!(holders_at_each_step(lan, 0), ["r1", "r2", "r1"]);
}

#[test]
fn case2_master_high_backup_low_preempts_back() {
    let lan = lan((Master, 150, true), (Backup, 100, true));
    assert_eq!(holders_at_each_step(lan, 0), ["r1", "r2", "r1"]);
}

#[test]
fn case3_priority_not_state_decides() {
    let lan = lan((Master, 100, true), (Backup, 150, true));
    assert_eq!(holders_at_each_step(lan, 1), ["r2", "r1", "r2"]);
}

#[test]
fn case4_nopreempt_first_started_wins_and_keeps_it() {
    // r1 (150) first.
    let mut lan = lan((Backup, 150, false), (Backup, 100, false));
    lan.start(0);
    lan.run_secs(SETTLE);
    lan.start(1);
    lan.run_secs(SETTLE);
    assert_holder(&lan, "r1", "at start");
    lan.kill(0);
    lan.run_secs(SETTLE);
    assert_holder(&lan, "r2", "after r1 died");
    lan.start(0);
    lan.run_secs(3 * SETTLE);
    assert_holder(&lan, "r2", "after r1 returned");
}

#[test]
fn case4_nopreempt_lower_priority_started_first_keeps_it() {
    let mut lan = lan((Backup, 150, false), (Backup, 100, false));
    lan.start(1);
    lan.run_secs(SETTLE);
    lan.start(0);
    lan.run_secs(3 * SETTLE);
    assert_holder(&lan, "r2", "at start, whatever the priorities");
    lan.kill(1);
    lan.run_secs(SETTLE);
    assert_holder(&lan, "r1", "after r2 died");
    lan.start(1);
    lan.run_secs(3 * SETTLE);
    assert_holder(&lan, "r1", "after r2 returned");
}

#[test]
fn article_literal_example_higher_router_still_preempts() {
    // Only the lower router carries nopreempt: it does not stop r1.
    let lan = lan((Backup, 150, true), (Backup, 100, false));
    assert_eq!(holders_at_each_step(lan, 0), ["r1", "r2", "r1"]);
}

#[test]
fn exactly_one_master_at_every_settled_step() {
    let mut lan = lan((Master, 150, true), (Backup, 100, true));
    start_die_return(&mut lan, 0);
    assert_eq!(lan.masters().len(), 1);
    assert_eq!(lan.holders().len(), 1);
}

#[test]
fn takeover_time_after_death_is_master_down() {
    let mut lan = lan((Master, 150, true), (Backup, 100, true));
    lan.start(0);
    lan.start(1);
    lan.run_secs(SETTLE);
    let died_at = lan.now();
    lan.kill(0);
    lan.run_secs(SETTLE);
    let takeover = lan
        .transitions
        .iter()
        .find(|t| t.router == "r2" && t.to == State::Master)
        .expect("r2 took over");
    // r2 last heard r1 at most one interval before the death, so it takes
    // over between master_down - interval and master_down after it.
    let master_down = 3_609_375;
    assert!(takeover.at > died_at + master_down - MICROS_PER_SECOND);
    assert!(takeover.at <= died_at + master_down);
    assert!(lan.router(1).garp_bursts >= 1);
}

#[test]
fn graceful_stop_hands_over_after_skew() {
    let mut lan = lan((Master, 150, true), (Backup, 100, true));
    lan.start(0);
    lan.start(1);
    lan.run_secs(SETTLE);
    let stopped_at = lan.now();
    lan.stop(0);
    lan.run_secs(SETTLE);
    let takeover = lan
        .transitions
        .iter()
        .find(|t| t.router == "r2" && t.to == State::Master)
        .expect("r2 took over");
    // Priority 0 received after 500 us latency, then skew (609375 us).
    assert_eq!(takeover.at, stopped_at + 500 + 609_375);
    assert_eq!(lan.holders(), vec!["r2"]);
}

#[test]
fn both_masters_at_once_settle_on_the_higher() {
    // Two owners of nothing, both start at the same instant as state MASTER
    // with equal priority: the higher address keeps it.
    let mut lan = lan((Master, 100, true), (Master, 100, true));
    lan.start(0);
    lan.start(1);
    lan.run_secs(SETTLE);
    assert_holder(&lan, "r2", "equal priority, higher address");
}

// ---- Sync groups and checks ---------------------------------------------

/// Two boxes, each with an instance on LAN A (VRID 50) and one on LAN B
/// (VRID 51) in one sync group: box 1 (priority 150) is master of both.
/// Returns the LAN and the indexes [box1 A, box1 B, box2 A, box2 B].
fn two_lans_two_boxes() -> SimLan {
    let mut lan = SimLan::new(500);
    for (name, address, priority) in [("r1", R1, 150), ("r2", R2, 100)] {
        let a = lan.add_router(
            &format!("{name}a"),
            instance_config(Backup, priority, true),
            address,
        );
        let mut config = instance_config(Backup, priority, true);
        config.vrid = 51;
        let b = lan.add_router(&format!("{name}b"), config, address);
        lan.add_sync_group(vec![a, b]);
    }
    lan.start(0);
    lan.start(2);
    lan.run_secs(SETTLE);
    assert_eq!(lan.masters(), vec!["r1a", "r1b"]);
    lan
}

/// keepalived 2.2.7: with VRRP cut on LAN A only, box 2's LAN A instance
/// times out again and again but stays BACKUP, because its LAN B instance
/// still hears box 1: box 2 never takes LAN B's address.
#[test]
fn a_partition_of_one_lan_does_not_pull_the_group_to_master() {
    let mut lan = two_lans_two_boxes();
    let mark = lan.transitions.len();
    // Box 2's LAN A instance alone in its segment.
    lan.set_faults(Faults {
        segments: vec![0, 0, 1, 0],
        ..Faults::default()
    });
    lan.run_secs(30);
    assert_eq!(lan.transitions[mark..], [], "nobody moved");
    assert_eq!(lan.holders(), vec!["r1a", "r1b"]);
    assert!(lan.router(2).instance.master_down_expired());
    // Healed: it hears box 1 again and stops waiting.
    lan.set_faults(Faults::default());
    lan.run_secs(SETTLE);
    assert!(!lan.router(2).instance.master_down_expired());
    // Box 1 dies: both of box 2's instances time out, the group goes.
    lan.kill(0);
    lan.run_secs(SETTLE);
    assert_eq!(lan.masters(), vec!["r2a", "r2b"]);
}

/// A master member that hears a better master takes its group along.
#[test]
fn a_member_that_steps_down_takes_the_group_along() {
    let mut lan = two_lans_two_boxes();
    lan.kill(0);
    lan.run_secs(SETTLE);
    assert_eq!(lan.masters(), vec!["r2a", "r2b"]);
    lan.start(0);
    lan.run_secs(SETTLE);
    assert_eq!(lan.masters(), vec!["r1a", "r1b"]);
    assert_eq!(lan.holders(), vec!["r1a", "r1b"]);
}

/// A higher router whose weight-0 check fails, slowly, from the start:
/// it waits in INIT for the first result, then FAULT; the master never
/// moves.
#[test]
fn a_router_waits_for_its_checks_first_result() {
    let mut lan = lan((Backup, 100, true), (Backup, 200, true));
    lan.start(0);
    lan.run_secs(SETTLE);
    lan.set_check(
        1,
        Some(SimCheck {
            weight: Weight::new(0, false),
            passing: false,
            rise: 1,
            fall: 3,
            first_result_after: 5 * MICROS_PER_SECOND,
            interval: MICROS_PER_SECOND,
        }),
    );
    lan.start(1);
    lan.run_secs(2);
    assert_eq!(lan.router(1).instance.state(), State::Initialize);
    lan.run_secs(SETTLE);
    assert_eq!(lan.router(1).instance.state(), State::Fault);
    assert_eq!(lan.masters(), vec!["r1"]);
    assert!(lan
        .transitions
        .iter()
        .all(|t| t.to != State::Master || t.index == 0));
}

/// Conformance seed 10143, as keepalived 2.2.7 does it (watched, a check
/// taking 3 s): while one member of a sync group waits for its weight-0
/// check's first result, the whole group waits in INIT; when that result
/// fails, the member goes to FAULT and the group with it, but the member
/// that never started stays silent (no state, no notify) until the group
/// recovers, and then goes to BACKUP with the others.
#[test]
fn a_group_waits_for_a_members_first_check_result_and_the_others_stay_silent() {
    let mut lan = two_lans_two_boxes();
    lan.kill(2);
    lan.set_check(
        3,
        Some(SimCheck {
            weight: Weight::new(0, false),
            passing: false,
            rise: 1,
            fall: 1,
            first_result_after: 2 * MICROS_PER_SECOND,
            interval: MICROS_PER_SECOND,
        }),
    );
    let mark = lan.transitions.len();
    lan.start(2);
    lan.run_secs(1);
    assert_eq!(lan.router(2).instance.state(), State::Initialize);
    assert_eq!(lan.router(3).instance.state(), State::Initialize);
    lan.run_secs(SETTLE);
    assert_eq!(lan.router(3).instance.state(), State::Fault);
    assert_eq!(lan.router(2).instance.state(), State::Initialize);
    let moved = |lan: &SimLan, index: usize| -> Vec<(State, State)> {
        lan.transitions[mark..]
            .iter()
            .filter(|t| t.index == index)
            .map(|t| (t.from, t.to))
            .collect()
    };
    assert_eq!(moved(&lan, 2), [], "the member that never started");
    assert_eq!(moved(&lan, 3), [(State::Initialize, State::Fault)]);
    // The check passes (as if removed): the group recovers, both BACKUP.
    lan.set_check(3, None);
    lan.set_tracking(3, 100, false);
    lan.run_secs(1);
    assert_eq!(moved(&lan, 2), [(State::Initialize, State::Backup)]);
    assert_eq!(
        moved(&lan, 3),
        [
            (State::Initialize, State::Fault),
            (State::Fault, State::Backup)
        ]
    );
    assert_eq!(lan.masters(), vec!["r1a", "r1b"]);
}
