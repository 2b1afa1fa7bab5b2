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
