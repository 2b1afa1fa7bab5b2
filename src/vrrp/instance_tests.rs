//! The rules of the state machine, one test each, on a fake clock.

use super::*;
use crate::config::InitialState::{Backup, Master};
use crate::vrrp::test_support::{instance_config, VIP};
use std::net::Ipv4Addr;

const US: Micros = 1;
const SEC: Micros = 1_000_000 * US;
const ME: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);
const LOWER_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const HIGHER_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 12);

fn instance(priority: u8, preempt: bool) -> Instance {
    Instance::new(&instance_config(Backup, priority, preempt), ME)
}

fn advert_from(instance: &Instance, priority: u8) -> Advert {
    instance.advert(priority)
}

fn started(priority: u8, preempt: bool) -> Instance {
    let mut i = instance(priority, preempt);
    i.start(0, &mut Vec::new());
    i
}

fn master(priority: u8) -> Instance {
    let mut i = started(priority, true);
    let down = i.poll_timeout().unwrap();
    i.handle_timeout(down, &mut Vec::new());
    assert_eq!(i.state(), State::Master);
    i
}

fn sent_priorities(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert(advert) => Some(advert.priority),
            _ => None,
        })
        .collect()
}

#[test]
fn below_255_starts_as_backup_even_when_state_says_master() {
    let mut i = Instance::new(&instance_config(Master, 150, true), ME);
    let mut out = Vec::new();
    i.start(0, &mut out);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        out,
        vec![Action::StateChanged {
            from: State::Initialize,
            to: State::Backup
        }]
    );
    // keepalived: "Master down timer = 3414062 usecs".
    assert_eq!(i.poll_timeout(), Some(3_414_062));
}

#[test]
fn owner_is_master_at_once() {
    let mut i = instance(255, true);
    let mut out = Vec::new();
    i.start(0, &mut out);
    assert_eq!(i.state(), State::Master);
    assert!(out.contains(&Action::AddVirtualAddresses));
    assert!(out.contains(&Action::SendGratuitousArp));
    assert_eq!(sent_priorities(&out), vec![255]);
}

#[test]
fn backup_takes_over_when_master_down_fires() {
    let mut i = started(100, true);
    let mut out = Vec::new();
    i.handle_timeout(3_609_374, &mut out);
    assert!(out.is_empty(), "nothing before master_down");
    i.handle_timeout(3_609_375, &mut out);
    assert_eq!(i.state(), State::Master);
    // keepalived's order: "Entering MASTER STATE", "setting VIPs", then
    // the advert and the announcements, which the kernel refuses (IPv6)
    // or which point hosts at us (IPv4) before the address is there.
    assert_eq!(
        out,
        vec![
            Action::StateChanged {
                from: State::Backup,
                to: State::Master
            },
            Action::AddVirtualAddresses,
            Action::SendAdvert(i.advert(100)),
            Action::SendGratuitousArp,
        ]
    );
}

#[test]
fn master_advertises_every_interval_and_repeats_garp_after_delay() {
    let mut i = master(100);
    let became_master = 3_609_375;
    let mut out = Vec::new();
    for n in 1..=6 {
        let at = i.poll_timeout().unwrap();
        i.handle_timeout(at, &mut out);
        if n <= 4 {
            assert_eq!(at, became_master + n * SEC);
        }
    }
    // The garp repeat (5 s) falls on the fifth advert: six calls, six adverts.
    assert_eq!(sent_priorities(&out), vec![100; 6]);
    assert_eq!(
        out.iter()
            .filter(|a| **a == Action::SendGratuitousArp)
            .count(),
        1
    );
}

#[test]
fn backup_adverts_from_higher_master_keep_it_backup() {
    let mut i = started(100, true);
    let peer = advert_from(&i, 150);
    for t in 1..20 {
        let mut out = Vec::new();
        i.handle_advert(t * SEC, HIGHER_ADDRESS, &peer, &mut out)
            .unwrap();
        assert!(out.is_empty());
    }
    assert_eq!(i.poll_timeout(), Some(19 * SEC + i.timers().master_down));
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn preempting_backup_ignores_lower_master_and_takes_over() {
    let mut i = started(150, true);
    let lower = advert_from(&i, 100);
    let first_down = i.poll_timeout().unwrap();
    i.handle_advert(SEC, LOWER_ADDRESS, &lower, &mut Vec::new())
        .unwrap();
    assert_eq!(
        i.poll_timeout(),
        Some(first_down),
        "lower master must not reset master_down"
    );
    i.handle_timeout(first_down, &mut Vec::new());
    assert_eq!(i.state(), State::Master);
}

#[test]
fn nopreempt_backup_obeys_lower_master() {
    let mut i = started(150, false);
    let lower = advert_from(&i, 100);
    i.handle_advert(2 * SEC, LOWER_ADDRESS, &lower, &mut Vec::new())
        .unwrap();
    assert_eq!(i.poll_timeout(), Some(2 * SEC + i.timers().master_down));
}

#[test]
fn preempt_delay_obeys_lower_master_for_a_while() {
    let mut config = instance_config(Backup, 150, true);
    config.preempt_delay_s = 10;
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    let lower = i.advert(100);
    let mut t = SEC;
    while t < 10 * SEC {
        i.handle_advert(t, LOWER_ADDRESS, &lower, &mut Vec::new())
            .unwrap();
        i.handle_timeout(t, &mut Vec::new());
        assert_eq!(i.state(), State::Backup, "still obeying at {t}");
        t += SEC;
    }
    // From 11 s on the lower master's adverts no longer reset master_down.
    while i.state() == State::Backup {
        i.handle_advert(t, LOWER_ADDRESS, &lower, &mut Vec::new())
            .unwrap();
        if i.poll_timeout().unwrap() <= t + SEC {
            i.handle_timeout(i.poll_timeout().unwrap(), &mut Vec::new());
        }
        t += SEC;
        assert!(t < 20 * SEC, "never preempted");
    }
    assert!(t >= 11 * SEC);
}

#[test]
fn priority_zero_makes_backup_take_over_after_skew() {
    let mut i = started(100, true);
    let leaving = advert_from(&i, 0);
    i.handle_advert(5 * SEC, HIGHER_ADDRESS, &leaving, &mut Vec::new())
        .unwrap();
    assert_eq!(i.poll_timeout(), Some(5 * SEC + 609_375));
}

#[test]
fn master_yields_to_higher_priority() {
    let mut i = master(100);
    let mut out = Vec::new();
    i.handle_advert(10 * SEC, LOWER_ADDRESS, &advert_from(&i, 150), &mut out)
        .unwrap();
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        out,
        vec![
            Action::StateChanged {
                from: State::Master,
                to: State::Backup
            },
            Action::RemoveVirtualAddresses
        ]
    );
    assert_eq!(i.poll_timeout(), Some(10 * SEC + i.timers().master_down));
}

#[test]
fn master_answers_lower_priority_at_once() {
    let mut i = master(150);
    let mut out = Vec::new();
    i.handle_advert(10 * SEC, HIGHER_ADDRESS, &advert_from(&i, 100), &mut out)
        .unwrap();
    assert_eq!(i.state(), State::Master);
    assert_eq!(sent_priorities(&out), vec![150]);
}

#[test]
fn equal_priority_higher_address_wins() {
    let mut i = master(100);
    let mut out = Vec::new();
    i.handle_advert(10 * SEC, LOWER_ADDRESS, &advert_from(&i, 100), &mut out)
        .unwrap();
    assert_eq!(i.state(), State::Master, "we have the higher address");
    i.handle_advert(11 * SEC, HIGHER_ADDRESS, &advert_from(&i, 100), &mut out)
        .unwrap();
    assert_eq!(i.state(), State::Backup, "they have the higher address");
}

#[test]
fn master_answers_priority_zero_at_once() {
    let mut i = master(100);
    let mut out = Vec::new();
    i.handle_advert(10 * SEC, HIGHER_ADDRESS, &advert_from(&i, 0), &mut out)
        .unwrap();
    assert_eq!(sent_priorities(&out), vec![100]);
    assert_eq!(i.state(), State::Master);
}

#[test]
fn stopping_master_sends_priority_zero_and_removes_addresses() {
    let mut i = master(100);
    let mut out = Vec::new();
    i.stop(20 * SEC, &mut out);
    assert_eq!(sent_priorities(&out), vec![0]);
    assert!(out.contains(&Action::RemoveVirtualAddresses));
    assert_eq!(i.state(), State::Stopped);
    assert_eq!(i.poll_timeout(), None);
}

#[test]
fn stopping_backup_sends_nothing() {
    let mut i = started(100, true);
    let mut out = Vec::new();
    i.stop(SEC, &mut out);
    assert!(sent_priorities(&out).is_empty());
    assert!(!out.contains(&Action::RemoveVirtualAddresses));
}

#[test]
fn refuses_wrong_password_auth_type_and_interval() {
    let mut i = started(100, true);
    let mut advert = advert_from(&i, 150);
    if let Version::V2 { auth_data, .. } = &mut advert.version {
        auth_data[0] = b'2';
    }
    assert_eq!(
        i.handle_advert(SEC, HIGHER_ADDRESS, &advert, &mut Vec::new()),
        Err(Discard::BadPassword)
    );
    let mut advert = advert_from(&i, 150);
    if let Version::V2 { auth_type, .. } = &mut advert.version {
        *auth_type = AuthType::None;
    }
    assert_eq!(
        i.handle_advert(SEC, HIGHER_ADDRESS, &advert, &mut Vec::new()),
        Err(Discard::AuthTypeMismatch)
    );
    let mut advert = advert_from(&i, 150);
    advert.interval_cs = 200;
    assert_eq!(
        i.handle_advert(SEC, HIGHER_ADDRESS, &advert, &mut Vec::new()),
        Err(Discard::IntervalMismatch)
    );
    // None of them counted as a master: master_down still runs from start.
    assert_eq!(i.poll_timeout(), Some(i.timers().master_down));
}

#[test]
fn different_address_list_is_accepted_and_reported() {
    let mut i = started(100, true);
    let mut advert = advert_from(&i, 150);
    advert.addresses = vec![VIP, Ipv4Addr::new(192, 0, 2, 101).into()].into();
    let accepted = i
        .handle_advert(SEC, HIGHER_ADDRESS, &advert, &mut Vec::new())
        .unwrap();
    assert!(accepted.address_list_differs);
    assert_eq!(i.poll_timeout(), Some(SEC + i.timers().master_down));
}

#[test]
fn own_adverts_are_ignored() {
    let mut i = started(100, true);
    let advert = advert_from(&i, 100);
    assert_eq!(
        i.handle_advert(SEC, ME, &advert, &mut Vec::new()),
        Err(Discard::OwnAdvert)
    );
}

#[test]
fn password_compare_is_exact() {
    assert!(constant_time_eq(b"1111\0\0\0\0", b"1111\0\0\0\0"));
    assert!(!constant_time_eq(b"1111\0\0\0\0", b"1111\0\0\0\x01"));
}

#[test]
fn fault_as_master_sends_priority_zero_and_removes_addresses() {
    let mut i = master(100);
    let mut out = Vec::new();
    i.set_fault(10 * SEC, true, &mut out);
    assert_eq!(i.state(), State::Fault);
    assert_eq!(sent_priorities(&out), vec![0]);
    assert!(out.contains(&Action::RemoveVirtualAddresses));
    assert_eq!(i.poll_timeout(), None, "no adverts, no timers in FAULT");
    // Adverts are ignored while in FAULT.
    let mut out = Vec::new();
    i.handle_advert(11 * SEC, HIGHER_ADDRESS, &advert_from(&i, 0), &mut out)
        .unwrap();
    assert!(out.is_empty());
}

#[test]
fn leaving_fault_starts_a_fresh_election_as_backup() {
    let mut i = master(100);
    i.set_fault(10 * SEC, true, &mut Vec::new());
    let mut out = Vec::new();
    i.set_fault(20 * SEC, false, &mut out);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        out,
        vec![Action::StateChanged {
            from: State::Fault,
            to: State::Backup
        }]
    );
    assert_eq!(i.poll_timeout(), Some(20 * SEC + i.timers().master_down));
}

/// keepalived 2.2.7 too: an address owner whose link comes back is a
/// backup first, discards the lower-priority adverts of the master that
/// took over meanwhile, and takes over when master_down runs out (found by
/// conformance seed 10152: keepalived took over 0.64 s after the link came
/// up at a 0.2 s interval, keepvip at once).
#[test]
fn an_owner_leaving_fault_is_a_backup_until_master_down() {
    let mut i = started(255, true);
    i.set_fault(10 * SEC, true, &mut Vec::new());
    let mut out = Vec::new();
    i.set_fault(20 * SEC, false, &mut out);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        out,
        vec![Action::StateChanged {
            from: State::Fault,
            to: State::Backup
        }]
    );
    assert_eq!(i.poll_timeout(), Some(20 * SEC + i.timers().master_down));
}

#[test]
fn fault_before_start_starts_in_fault() {
    let mut i = instance(100, true);
    i.set_fault(0, true, &mut Vec::new());
    let mut out = Vec::new();
    i.start(0, &mut out);
    assert_eq!(i.state(), State::Fault);
    assert_eq!(i.poll_timeout(), None);
}

#[test]
fn master_announces_a_priority_change_at_once() {
    let mut i = master(150);
    let mut out = Vec::new();
    i.set_priority(10 * SEC, 90, &mut out);
    assert_eq!(sent_priorities(&out), vec![90]);
    assert_eq!(i.priority(), 90);
    assert_eq!(i.base_priority(), 150);
}

#[test]
fn tracked_priority_stays_within_1_and_254_and_owner_keeps_255() {
    let mut i = started(100, true);
    i.set_priority(0, 0, &mut Vec::new());
    assert_eq!(i.priority(), 1);
    i.set_priority(0, 255, &mut Vec::new());
    assert_eq!(i.priority(), 254);
    let mut owner = started(255, true);
    owner.set_priority(0, 100, &mut Vec::new());
    assert_eq!(owner.priority(), 255);
}

#[test]
fn backup_whose_priority_rises_preempts_the_master() {
    let mut i = started(100, true);
    let master_advert = advert_from(&i, 120);
    i.handle_advert(SEC, HIGHER_ADDRESS, &master_advert, &mut Vec::new())
        .unwrap();
    i.set_priority(SEC, 160, &mut Vec::new());
    // The master's adverts (120) no longer hold it back.
    let mut t = 2 * SEC;
    while i.state() == State::Backup && t < 10 * SEC {
        i.handle_advert(t, HIGHER_ADDRESS, &master_advert, &mut Vec::new())
            .unwrap();
        i.handle_timeout(t, &mut Vec::new());
        t += SEC / 10;
    }
    assert_eq!(i.state(), State::Master);
}

#[test]
fn garp_master_refresh_repeats_bursts_while_master() {
    let mut config = instance_config(Backup, 255, true);
    config.garp_master_delay_s = 0;
    config.garp_master_refresh_s = 10;
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    let mut bursts = Vec::new();
    while let Some(at) = i.poll_timeout().filter(|t| *t <= 35 * SEC) {
        let mut out = Vec::new();
        i.handle_timeout(at, &mut out);
        if out.contains(&Action::SendRefreshGarp) {
            bursts.push(at);
        }
    }
    assert_eq!(bursts, vec![10 * SEC, 20 * SEC, 30 * SEC]);
    // Leaving master stops them.
    i.handle_advert(
        36 * SEC,
        HIGHER_ADDRESS,
        &advert_from(&i, 255),
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(i.state(), State::Backup);
    assert!(i.poll_timeout().unwrap() > 36 * SEC + 3 * SEC);
}

/// `garp_extra_if all 4` beside `garp_master_refresh 10`: each on its own
/// period from becoming master, as keepalived 2.2.7 sends them; without
/// `all` nothing (keepalived sends only on VMAC interfaces of addresses).
#[test]
fn garp_extra_if_runs_its_own_period_while_master() {
    let mut config = instance_config(Backup, 255, true);
    config.garp_master_delay_s = 0;
    config.garp_master_refresh_s = 10;
    config.options.garp_extra_if = crate::config::GarpExtraIf {
        interval_s: 4,
        all: true,
    };
    let rounds = |config: &crate::config::InstanceConfig| {
        let mut i = Instance::new(config, ME);
        i.start(0, &mut Vec::new());
        let (mut extra, mut refresh) = (Vec::new(), Vec::new());
        while let Some(at) = i.poll_timeout().filter(|t| *t <= 21 * SEC) {
            let mut out = Vec::new();
            i.handle_timeout(at, &mut out);
            if out.contains(&Action::SendExtraInterfaceGarp) {
                extra.push(at / SEC);
            }
            if out.contains(&Action::SendRefreshGarp) {
                refresh.push(at / SEC);
            }
        }
        (extra, refresh)
    };
    assert_eq!(rounds(&config), (vec![4, 8, 12, 16, 20], vec![10, 20]));
    config.options.garp_extra_if.all = false;
    assert_eq!(rounds(&config), (vec![], vec![10, 20]));
}

/// A reload while master (keepalived 2.2.7, watched on SIGHUP): with
/// `garp_extra_if` on, one round at once and the period restarted from
/// there, whether the reload turned it on, changed N or left it as it was;
/// a backup sends none.
#[test]
fn a_reload_while_master_sends_an_extra_interface_round_at_once() {
    let extra_rounds = |i: &mut Instance, until: Micros| {
        let mut rounds = Vec::new();
        while let Some(at) = i.poll_timeout().filter(|t| *t <= until) {
            let mut out = Vec::new();
            i.handle_timeout(at, &mut out);
            if out.contains(&Action::SendExtraInterfaceGarp) {
                rounds.push(at);
            }
        }
        rounds
    };
    let mut i = master(100);
    let mut config = instance_config(Backup, 100, true);
    config.options.garp_extra_if = crate::config::GarpExtraIf {
        interval_s: 2,
        all: true,
    };
    let reload_at = 10 * SEC + 300_000;
    extra_rounds(&mut i, reload_at);
    i.reconfigure(&config);
    i.reloaded(reload_at);
    assert_eq!(
        extra_rounds(&mut i, reload_at + 5 * SEC),
        [reload_at, reload_at + 2 * SEC, reload_at + 4 * SEC]
    );
    let again = reload_at + 5 * SEC + 500_000;
    extra_rounds(&mut i, again);
    i.reloaded(again);
    assert_eq!(
        extra_rounds(&mut i, again + 2 * SEC),
        [again, again + 2 * SEC]
    );

    let mut backup = started(100, true);
    backup.reconfigure(&config);
    backup.reloaded(SEC);
    assert_eq!(backup.state(), State::Backup);
    assert_eq!(extra_rounds(&mut backup, 2 * SEC), [] as [Micros; 0]);
}

#[test]
fn group_fault_and_own_fault_hold_independently() {
    let mut i = master(100);
    i.set_group_fault(10 * SEC, true, &mut Vec::new());
    assert_eq!(i.state(), State::Fault);
    i.set_fault(11 * SEC, true, &mut Vec::new());
    i.set_group_fault(12 * SEC, false, &mut Vec::new());
    assert_eq!(i.state(), State::Fault, "still held by its own tracking");
    assert!(i.tracking_fault());
    i.set_fault(13 * SEC, false, &mut Vec::new());
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn group_members_follow_to_master_and_back() {
    let mut i = started(100, true);
    let mut out = Vec::new();
    i.follow_group_to_master(SEC, &mut out);
    assert_eq!(i.state(), State::Master);
    assert!(out.contains(&Action::AddVirtualAddresses));
    let mut out = Vec::new();
    i.follow_group_to_backup(2 * SEC, &mut out);
    assert_eq!(i.state(), State::Backup);
    assert!(out.contains(&Action::RemoveVirtualAddresses));
    // Following never pulls an instance out of FAULT.
    i.set_fault(3 * SEC, true, &mut Vec::new());
    i.follow_group_to_master(4 * SEC, &mut Vec::new());
    assert_eq!(i.state(), State::Fault);
}

// ---- VRRPv3 and unicast peers -------------------------------------------

use crate::vrrp::test_support::v3_instance_config;

fn v3_started(priority: u8, interval_cs: u16) -> Instance {
    let mut i = Instance::new(&v3_instance_config(priority, true, interval_cs), ME);
    i.start(0, &mut Vec::new());
    i
}

fn v3_advert(priority: u8, interval_cs: u16) -> Advert {
    Advert {
        version: Version::V3,
        vrid: 50,
        priority,
        interval_cs,
        addresses: vec![VIP].into(),
    }
}

#[test]
fn v3_timers_run_on_centiseconds() {
    // 0.1 s, priority 100: skew 60937 us, master_down 360937 us.
    let i = v3_started(100, 10);
    assert_eq!(i.poll_timeout(), Some(360_937));
    let mut i = i;
    let mut out = Vec::new();
    i.handle_timeout(360_937, &mut out);
    assert_eq!(i.state(), State::Master);
    // Adverts every 100 ms, v3, no authentication.
    assert_eq!(i.poll_timeout(), Some(460_937));
    assert_eq!(i.advert(100).version, Version::V3);
}

#[test]
fn v3_backup_learns_the_masters_interval() {
    // RFC 5798 6.4.2: Master_Adver_Interval from the advert, master_down
    // recomputed with it. Ours is 1 s, the master's 0.5 s.
    let mut i = v3_started(100, 100);
    let accepted = i
        .handle_advert(SEC, HIGHER_ADDRESS, &v3_advert(150, 50), &mut Vec::new())
        .unwrap();
    assert!(accepted.interval_differs);
    assert_eq!(i.master_interval_cs(), 50);
    // 3 * 0.5 s + (256 - 100) * 0.5 s / 256 = 1.5 s + 304687 us.
    assert_eq!(i.timers().master_down, 1_804_687);
    assert_eq!(i.poll_timeout(), Some(SEC + 1_804_687));
    // Our own adverts keep our interval.
    assert_eq!(i.timers().advert_interval, SEC);
    // Priority 0: skew from the learned interval too.
    i.handle_advert(2 * SEC, HIGHER_ADDRESS, &v3_advert(0, 50), &mut Vec::new())
        .unwrap();
    assert_eq!(i.poll_timeout(), Some(2 * SEC + 304_687));
    // The master slows down to 2 s: learned again.
    i.handle_advert(
        2 * SEC,
        HIGHER_ADDRESS,
        &v3_advert(150, 200),
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(i.master_interval_cs(), 200);
    assert_eq!(
        i.poll_timeout(),
        Some(2 * SEC + Timers::new(VrrpVersion::V3, 100, 200).master_down)
    );
}

#[test]
fn v3_backup_ignores_the_interval_of_a_master_it_will_preempt() {
    let mut i = v3_started(100, 100);
    i.handle_advert(SEC, LOWER_ADDRESS, &v3_advert(50, 400), &mut Vec::new())
        .unwrap();
    assert_eq!(i.master_interval_cs(), 100);
    assert_eq!(i.poll_timeout(), Some(i.timers().master_down));
}

#[test]
fn v3_master_yielding_learns_the_new_masters_interval() {
    let mut i = v3_started(100, 100);
    let down = i.poll_timeout().unwrap();
    i.handle_timeout(down, &mut Vec::new());
    assert_eq!(i.state(), State::Master);
    i.handle_advert(down, HIGHER_ADDRESS, &v3_advert(200, 20), &mut Vec::new())
        .unwrap();
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master_interval_cs(), 20);
    assert_eq!(
        i.poll_timeout(),
        Some(down + Timers::new(VrrpVersion::V3, 100, 20).master_down)
    );
    // Back to master and down again (e.g. a fault): our own interval until
    // a master is heard.
    i.set_fault(down, true, &mut Vec::new());
    i.set_fault(down, false, &mut Vec::new());
    assert_eq!(i.master_interval_cs(), 100);
}

#[test]
fn versions_must_match() {
    let mut v3 = v3_started(100, 100);
    let v2_advert = instance(150, true).advert(150);
    assert_eq!(
        v3.handle_advert(SEC, HIGHER_ADDRESS, &v2_advert, &mut Vec::new()),
        Err(Discard::BadVersion)
    );
    let mut v2 = started(100, true);
    assert_eq!(
        v2.handle_advert(SEC, HIGHER_ADDRESS, &v3_advert(150, 100), &mut Vec::new()),
        Err(Discard::BadVersion)
    );
}

#[test]
fn unicast_instance_accepts_only_its_peers() {
    let mut config = v3_instance_config(100, true, 100);
    config.unicast_peers = vec![HIGHER_ADDRESS.into()];
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    assert_eq!(
        i.handle_advert(SEC, LOWER_ADDRESS, &v3_advert(150, 100), &mut Vec::new()),
        Err(Discard::UnknownPeer)
    );
    assert_eq!(i.poll_timeout(), Some(i.timers().master_down));
    assert!(i
        .handle_advert(SEC, HIGHER_ADDRESS, &v3_advert(150, 100), &mut Vec::new())
        .is_ok());
    assert_eq!(i.poll_timeout(), Some(SEC + i.timers().master_down));
}

#[test]
fn ipv6_ties_break_on_the_higher_address() {
    let mut config = v3_instance_config(100, true, 100);
    config.virtual_addresses[0].addr = "2001:db8::100".parse().unwrap();
    config.virtual_addresses[0].prefix_len = 128;
    let me: IpAddr = "fe80::11".parse().unwrap();
    let mut i = Instance::new(&config, me);
    i.start(0, &mut Vec::new());
    let down = i.poll_timeout().unwrap();
    i.handle_timeout(down, &mut Vec::new());
    let mut advert = v3_advert(100, 100);
    advert.addresses = vec!["2001:db8::100".parse().unwrap()].into();
    let lower: IpAddr = "fe80::10".parse().unwrap();
    i.handle_advert(down, lower, &advert, &mut Vec::new())
        .unwrap();
    assert_eq!(i.state(), State::Master);
    let higher: IpAddr = "fe80::12".parse().unwrap();
    i.handle_advert(down, higher, &advert, &mut Vec::new())
        .unwrap();
    assert_eq!(i.state(), State::Backup);
}

/// An instance carrying excluded addresses (here an IPv6 one on an IPv4
/// instance, the usual reason): with a config that lists them.
fn with_excluded() -> InstanceConfig {
    let mut config = instance_config(Backup, 100, true);
    let mut excluded = config.virtual_addresses[0].clone();
    excluded.addr = "2001:db8::100".parse().unwrap();
    excluded.prefix_len = 128;
    excluded.advertised = false;
    config.virtual_addresses.push(excluded);
    config
}

#[test]
fn excluded_addresses_are_not_advertised() {
    let config = with_excluded();
    assert!(
        !config.is_ipv6(),
        "the advertised address decides the family"
    );
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    let down = i.poll_timeout().unwrap();
    let mut actions = Vec::new();
    i.handle_timeout(down, &mut actions);
    assert_eq!(i.state(), State::Master);
    let sent: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert(advert) => Some(advert.addresses.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [vec![VIP]]);
    // Taking over still adds (and announces) every owned address: the
    // daemon's AddVirtualAddresses covers the excluded ones.
    assert!(actions.contains(&Action::AddVirtualAddresses));
    assert!(actions.contains(&Action::SendGratuitousArp));
}

#[test]
fn excluded_addresses_do_not_count_in_the_list_comparison() {
    let mut i = Instance::new(&with_excluded(), ME);
    i.start(0, &mut Vec::new());
    // A master (keepalived or keepvip) that advertises only the VIP: the
    // same list as ours, although we also own an excluded address.
    let mut advert = advert_from(&i, 150);
    advert.addresses = vec![VIP].into();
    let accepted = i
        .handle_advert(SEC, HIGHER_ADDRESS, &advert, &mut Vec::new())
        .unwrap();
    assert!(!accepted.address_list_differs);
    // One that also lists the excluded address differs.
    advert.addresses = vec![VIP, "2001:db8::100".parse().unwrap()].into();
    let accepted = i
        .handle_advert(2 * SEC, HIGHER_ADDRESS, &advert, &mut Vec::new())
        .unwrap();
    assert!(accepted.address_list_differs);
}

#[test]
fn v2_skew_is_a_fraction_of_one_second_whatever_the_interval() {
    // RFC 3768 6.1 (and keepalived): Skew_Time = (256 - priority) / 256 s;
    // only Master_Down_Interval grows with advert_int.
    let mut config = instance_config(Backup, 100, true);
    config.advert_int_cs = 300;
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    assert_eq!(i.poll_timeout(), Some(9 * SEC + 609_375));
    // Priority 0 from the master: skew, still under a second.
    let stopping = advert_from(&i, 0);
    i.handle_advert(SEC, HIGHER_ADDRESS, &stopping, &mut Vec::new())
        .unwrap();
    assert_eq!(i.poll_timeout(), Some(SEC + 609_375));
}

#[test]
fn poll_timeout_includes_the_garp_refresh() {
    // A refresh more often than the adverts: the daemon must wake for it.
    let mut config = instance_config(Backup, 255, true);
    config.advert_int_cs = 300;
    config.garp_master_delay_s = 0;
    config.garp_master_refresh_s = 1;
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.poll_timeout(), Some(SEC));
    let mut out = Vec::new();
    i.handle_timeout(SEC, &mut out);
    assert_eq!(out, vec![Action::SendRefreshGarp]);
    assert_eq!(i.poll_timeout(), Some(2 * SEC));
}

fn master_with_lower_prio_garp(repeat: u32, delay_s: u32) -> (Instance, Micros) {
    let mut config = instance_config(Backup, 150, true);
    config.garp_master_delay_s = 0;
    config.garp_lower_prio_repeat = repeat;
    config.garp_lower_prio_delay_s = delay_s;
    let mut i = Instance::new(&config, ME);
    i.start(0, &mut Vec::new());
    let down = i.poll_timeout().unwrap();
    i.handle_timeout(down, &mut Vec::new());
    assert_eq!(i.state(), State::Master);
    (i, down)
}

#[test]
fn master_answers_a_lower_master_with_an_advert_and_an_announcement() {
    // keepalived 2.2.7 after a partition heals: "Received advert from X
    // with lower priority 100, ours 150, forcing new election", its advert,
    // a burst of garp_lower_prio_repeat, another garp_lower_prio_delay later.
    let (mut i, down) = master_with_lower_prio_garp(3, 2);
    let heard = down + SEC / 2;
    let mut out = Vec::new();
    let lower = advert_from(&i, 100);
    i.handle_advert(heard, HIGHER_ADDRESS, &lower, &mut out)
        .unwrap();
    assert_eq!(i.state(), State::Master);
    assert_eq!(
        out,
        vec![
            Action::LowerPriorityHeard {
                source: HIGHER_ADDRESS.into(),
                priority: 100
            },
            Action::SendAdvert(i.advert(150)),
            Action::SendLowerPriorityGarp,
        ]
    );
    // Heard again before the second burst: answered again, but the second
    // burst is not pushed back.
    out.clear();
    i.handle_advert(heard + SEC, HIGHER_ADDRESS, &lower, &mut out)
        .unwrap();
    assert!(out.contains(&Action::SendLowerPriorityGarp));
    let mut bursts = Vec::new();
    let mut now = heard + SEC;
    while now < heard + 5 * SEC {
        now = i.poll_timeout().unwrap();
        let mut out = Vec::new();
        i.handle_timeout(now, &mut out);
        if out.contains(&Action::SendLowerPriorityGarp) {
            bursts.push(now);
        }
    }
    assert_eq!(bursts, vec![heard + 2 * SEC]);
}

#[test]
fn lower_prio_garp_repeat_0_and_delay_0_turn_them_off() {
    let (mut i, down) = master_with_lower_prio_garp(0, 2);
    let mut out = Vec::new();
    let lower = advert_from(&i, 100);
    i.handle_advert(down, HIGHER_ADDRESS, &lower, &mut out)
        .unwrap();
    assert!(!out.contains(&Action::SendLowerPriorityGarp));
    assert_eq!(sent_priorities(&out), vec![150]);
    assert_eq!(i.poll_timeout(), Some(down + SEC), "no second burst either");

    let (mut i, down) = master_with_lower_prio_garp(5, 0);
    out.clear();
    i.handle_advert(down, HIGHER_ADDRESS, &lower, &mut out)
        .unwrap();
    assert!(out.contains(&Action::SendLowerPriorityGarp));
    assert_eq!(i.poll_timeout(), Some(down + SEC), "one burst only");
}

// ---- A check's first result ---------------------------------------------

/// keepalived 2.2.7: an instance whose weight-0 check has not reported
/// stays in INIT (no adverts, no notify) however long that takes; the first
/// result sends it to FAULT, or to BACKUP and on to the election.
#[test]
fn an_instance_waits_in_init_for_its_weight_0_checks_first_result() {
    let mut i = instance(200, true);
    let mut out = Vec::new();
    i.set_fault(0, true, &mut out);
    i.set_waiting_for_checks(0, true, &mut out);
    i.start(0, &mut out);
    assert_eq!(i.state(), State::Initialize);
    assert_eq!(i.poll_timeout(), None, "no master_down while waiting");
    assert!(out.is_empty(), "{out:?}");

    // A failing first result, 10 s later: FAULT, never master.
    let mut failing = i.clone();
    failing.set_waiting_for_checks(10 * SEC, false, &mut out);
    assert_eq!(failing.state(), State::Fault);
    assert_eq!(failing.poll_timeout(), None);

    // A passing one: backup, master after a whole master_down from then.
    let mut out = Vec::new();
    i.set_fault(10 * SEC, false, &mut out);
    i.set_waiting_for_checks(10 * SEC, false, &mut out);
    assert_eq!(i.state(), State::Backup);
    let down = i.poll_timeout().unwrap();
    assert_eq!(down, 10 * SEC + i.timers().master_down);
    i.handle_timeout(down, &mut out);
    assert_eq!(i.state(), State::Master);
}

/// keepalived's lower_prio_no_advert: a master hearing a lower-priority
/// master does not answer it with an advert (it still announces).
#[test]
fn lower_prio_no_advert_leaves_a_lower_master_unanswered() {
    for (no_advert, answers) in [(false, vec![150]), (true, vec![])] {
        let mut config = instance_config(Backup, 150, true);
        config.options.lower_prio_no_advert = no_advert;
        let mut i = Instance::new(&config, ME);
        i.start(0, &mut Vec::new());
        while i.state() != State::Master {
            let at = i.poll_timeout().unwrap();
            i.handle_timeout(at, &mut Vec::new());
        }
        let now = i.poll_timeout().unwrap() - 1;
        let mut out = Vec::new();
        i.handle_advert(now, HIGHER_ADDRESS, &advert_from(&i, 100), &mut out)
            .unwrap();
        assert_eq!(
            sent_priorities(&out),
            answers,
            "lower_prio_no_advert {no_advert}"
        );
        assert_eq!(i.state(), State::Master);
    }
}

/// keepalived's higher_prio_send_advert: one advert at our own priority
/// before giving way to a higher master.
#[test]
fn higher_prio_send_advert_speaks_once_before_giving_way() {
    for (send, sent) in [(false, vec![]), (true, vec![150])] {
        let mut config = instance_config(Backup, 150, true);
        config.options.higher_prio_send_advert = send;
        let mut i = Instance::new(&config, ME);
        i.start(0, &mut Vec::new());
        while i.state() != State::Master {
            let at = i.poll_timeout().unwrap();
            i.handle_timeout(at, &mut Vec::new());
        }
        let now = i.poll_timeout().unwrap() - 1;
        let mut out = Vec::new();
        i.handle_advert(now, HIGHER_ADDRESS, &advert_from(&i, 200), &mut out)
            .unwrap();
        assert_eq!(
            sent_priorities(&out),
            sent,
            "higher_prio_send_advert {send}"
        );
        assert_eq!(i.state(), State::Backup);
    }
}

#[test]
fn an_advert_sent_more_than_half_an_interval_after_it_was_due_counts_as_late() {
    let mut i = master(150);
    let interval = i.timers().advert_interval;
    assert_eq!(i.late_adverts(), 0, "becoming master sends on time");
    // Exactly half an interval behind is still on time.
    let due = i.poll_timeout().unwrap();
    i.handle_timeout(due + interval / 2, &mut Vec::new());
    assert_eq!(i.late_adverts(), 0);
    // The cadence is kept: the next one was due one interval after.
    let due = i.poll_timeout().unwrap();
    let mut out = Vec::new();
    i.handle_timeout(due + interval / 2 + 1, &mut out);
    assert_eq!(sent_priorities(&out), vec![150], "a late advert still goes");
    assert_eq!(i.late_adverts(), 1);
    // A stalled loop that wakes several intervals late sends one advert,
    // and it counts once.
    let due = i.poll_timeout().unwrap();
    i.handle_timeout(due + 5 * interval, &mut Vec::new());
    assert_eq!(i.late_adverts(), 2);
}

/// A hitless restart: the new image's instance takes up the master's state
/// and timers and says nothing until its next advert was due.
#[test]
fn a_resumed_master_says_nothing_until_its_next_advert() {
    let old = master(100);
    let saved = old.snapshot();
    let due = saved.advert.unwrap();
    let mut new = instance(100, true);
    assert!(new.resume(due - 50_000, &saved));
    assert_eq!(new.state(), State::Master);
    assert_eq!(new.poll_timeout(), Some(due));
    let mut out = Vec::new();
    new.handle_timeout(due, &mut out);
    assert_eq!(out, vec![Action::SendAdvert(new.advert(100))]);
    // Its garp repeat is still due, once.
    assert_eq!(new.snapshot().garp_repeat, saved.garp_repeat);
    // It stops as any master does: priority 0, addresses removed.
    let mut out = Vec::new();
    new.stop(due, &mut out);
    assert_eq!(sent_priorities(&out), vec![0]);
    assert!(out.contains(&Action::RemoveVirtualAddresses));
}

#[test]
fn a_resumed_backup_keeps_its_master_down_timer_and_learned_interval() {
    // VRRPv3, where a backup learns its master's interval.
    let mut config = instance_config(Backup, 100, true);
    config.version = VrrpVersion::V3;
    let mut old = Instance::new(&config, ME);
    old.start(0, &mut Vec::new());
    let mut peer = advert_from(&old, 150);
    peer.interval_cs = 50;
    old.handle_advert(SEC, HIGHER_ADDRESS, &peer, &mut Vec::new())
        .unwrap();
    let saved = old.snapshot();
    assert_eq!(saved.master_interval_cs, 50);
    let mut new = Instance::new(&config, ME);
    assert!(new.resume(SEC + 1, &saved));
    assert_eq!(new.state(), State::Backup);
    assert_eq!(new.master_interval_cs(), 50);
    assert_eq!(new.poll_timeout(), saved.master_down);
    let mut out = Vec::new();
    new.handle_timeout(saved.master_down.unwrap(), &mut out);
    assert_eq!(new.state(), State::Master, "master_down still fires");
}

#[test]
fn only_an_instance_in_init_resumes_and_only_into_a_running_state() {
    let saved = master(100).snapshot();
    let mut running = started(100, true);
    assert!(!running.resume(0, &saved));
    assert_eq!(running.state(), State::Backup);
    let mut fresh = instance(100, true);
    let stopped = Snapshot {
        state: State::Stopped,
        ..saved
    };
    assert!(!fresh.resume(0, &stopped));
    assert_eq!(fresh.state(), State::Initialize);
}

/// keepalived 2.2.7, watched: a sync group member that waited for another
/// member's first check result, which failed, is synced to FAULT without a
/// word and goes to BACKUP when the group recovers; one that starts while
/// its group is already in FAULT (another member's link down) says FAULT.
#[test]
fn a_member_released_into_its_groups_fault_stays_silent_in_init() {
    let mut i = instance(100, true);
    let mut out = Vec::new();
    i.set_group_waiting_for_checks(0, true, &mut out);
    i.start(0, &mut out);
    assert_eq!(i.state(), State::Initialize);
    i.set_group_fault(SEC, true, &mut out);
    i.set_group_waiting_for_checks(SEC, false, &mut out);
    i.start(SEC, &mut out);
    assert_eq!(i.state(), State::Initialize);
    assert!(out.is_empty(), "{out:?}");
    i.set_group_fault(5 * SEC, false, &mut out);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        out,
        [Action::StateChanged {
            from: State::Initialize,
            to: State::Backup
        }]
    );

    let mut i = instance(100, true);
    let mut out = Vec::new();
    i.set_group_fault(0, true, &mut out);
    i.start(0, &mut out);
    assert_eq!(i.state(), State::Fault);
}

/// A sync group of two members after a restart, both saved in FAULT: the
/// second by its own failing check, the first only because the second
/// holds the group there. The new image knows the group before it resumes
/// them, then evaluates each member's own tracking in turn, then the
/// group's hold (as `daemon::sync_group`): the
/// first must not pass through BACKUP (no state change, so no notify or
/// fifo line, and no advert) while its sibling still holds it.
#[test]
fn a_member_resumed_in_its_groups_fault_stays_there_silently() {
    use crate::vrrp::sync_group::held_in_fault;
    let saved = Snapshot {
        state: State::Fault,
        priority: 100,
        master_interval_cs: 100,
        advert: None,
        master_down: None,
        garp_repeat: None,
        garp_refresh: None,
        preempt_allowed_at: None,
    };
    let mut members = [instance(100, true), instance(100, true)];
    let mut out = Vec::new();
    for member in &mut members {
        member.set_in_sync_group(true);
        assert!(member.resume(SEC, &saved));
    }
    let own_fault = [false, true];
    for index in 0..2 {
        members[index].set_fault(SEC, own_fault[index], &mut out);
        let holds: Vec<bool> = members.iter().map(|m| m.holds_group_in_fault()).collect();
        for (i, member) in members.iter_mut().enumerate() {
            member.set_group_fault(SEC, held_in_fault(&holds, i), &mut out);
        }
    }
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(members.each_ref().map(|m| m.state()), [State::Fault; 2]);

    // Once the sibling's check passes, the group leaves FAULT as usual.
    let [mut first, mut second] = members;
    second.set_fault(2 * SEC, false, &mut out);
    first.set_group_fault(2 * SEC, false, &mut out);
    assert_eq!(
        (first.state(), second.state()),
        (State::Backup, State::Backup)
    );

    // Not in a group: nothing but its own tracking holds it.
    let mut alone = instance(100, true);
    assert!(alone.resume(SEC, &saved));
    let mut out = Vec::new();
    alone.set_fault(SEC, false, &mut out);
    assert_eq!(alone.state(), State::Backup);
}

/// A backup waiting out preempt_delay before it takes over from a
/// lower-priority master: a restart in the middle of the window carries
/// its end, so the takeover comes when it would have without the restart.
#[test]
fn a_restart_carries_the_preempt_delay_window() {
    let mut config = instance_config(Backup, 150, true);
    config.preempt_delay_s = 10;
    // Lower adverts every second from 1 s; a restart at `restart_at`, if
    // any. Returns when it became master.
    let takeover = |restart_at: Option<Micros>| {
        let mut i = Instance::new(&config, ME);
        i.start(0, &mut Vec::new());
        let lower = i.advert(100);
        let mut t = SEC;
        loop {
            if restart_at == Some(t) {
                let saved = i.snapshot();
                i = Instance::new(&config, ME);
                assert!(i.resume(t, &saved));
            }
            while let Some(due) = i.poll_timeout().filter(|due| *due <= t) {
                i.handle_timeout(due, &mut Vec::new());
                if i.state() == State::Master {
                    return due;
                }
            }
            i.handle_advert(t, LOWER_ADDRESS, &lower, &mut Vec::new())
                .unwrap();
            t += SEC;
            assert!(t < 30 * SEC, "never preempted");
        }
    };
    let without = takeover(None);
    assert!(without > 11 * SEC, "{without}");
    assert_eq!(takeover(Some(6 * SEC)), without);
}
