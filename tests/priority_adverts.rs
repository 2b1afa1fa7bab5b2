//! `lower_prio_no_advert` and `higher_prio_send_advert` on the wire: what a
//! master sends when it hears another master, keepvip and keepalived 2.2.7
//! each in the role of the router with the option (two LANs side by side,
//! the other implementation as the other router), with a VRID without
//! the option beside as the control.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;

use std::time::Duration;

use common::{Advert, Impl, Lan, Mark, CAPTURE_LAG, ELECTION};

/// The router with the option.
const WITH: usize = 1;
/// The other implementation.
const OTHER: usize = 2;

fn instance(vrid: u8, priority: u8, interval: &str, extra: &str) -> String {
    format!(
        "vrrp_instance VI_{vrid} {{\n    interface eth0\n    virtual_router_id {vrid}\n\
         \x20   priority {priority}\n    version 3\n    advert_int {interval}\n{extra}\
         \x20   virtual_ipaddress {{\n        192.0.2.{vrid}/24\n    }}\n}}\n"
    )
}

fn vip(vrid: u8) -> String {
    format!("192.0.2.{vrid}")
}

fn other(imp: Impl) -> Impl {
    match imp {
        Impl::Keepvip => Impl::Keepalived,
        _ => Impl::Keepvip,
    }
}

/// Adverts of `vrid` from `router` in `adverts`.
fn from<'a>(lan: &Lan, router: usize, vrid: u8, adverts: &'a [Advert]) -> Vec<&'a Advert> {
    adverts
        .iter()
        .filter(|a| a.src_mac == lan.mac(router) && a.vrid == vrid)
        .collect()
}

/// Two masters: the router with the option (priority 150, every 0.5 s)
/// and a lower one that cannot hear it (multicast to its port is off;
/// priority 100, every 0.1 s). Without the option a master answers each
/// lower advert at once (VRID 91: about ten adverts a second); with
/// `lower_prio_no_advert` it keeps to its interval (VRID 90: two a second).
#[test]
fn lower_prio_no_advert_leaves_a_lower_master_unanswered() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans = Lan::side_by_side(&lock, &["lpna-keepvip", "lpna-keepalived"], 2);
    const QUIET: u8 = 90;
    const ANSWERS: u8 = 91;
    for (lan, imp) in lans.iter_mut().zip([Impl::Keepvip, Impl::Keepalived]) {
        lan.set_mcast_flood(OTHER, false);
        let with = format!(
            "{}{}",
            instance(QUIET, 150, "0.5", "    lower_prio_no_advert\n"),
            instance(ANSWERS, 150, "0.5", "")
        );
        let lower = format!(
            "{}{}",
            instance(QUIET, 100, "0.1", ""),
            instance(ANSWERS, 100, "0.1", "")
        );
        lan.start(WITH, imp, &with);
        lan.start(OTHER, other(imp), &lower);
    }
    let mut marks = Vec::new();
    for lan in &lans {
        for vrid in [QUIET, ANSWERS] {
            lan.wait_until(ELECTION, "two masters", || {
                lan.holds_vip(WITH, &vip(vrid)) && lan.holds_vip(OTHER, &vip(vrid))
            });
        }
        marks.push(lan.mark());
    }
    const WINDOW: Duration = Duration::from_secs(2);
    std::thread::sleep(WINDOW);
    for (lan, (mark, imp)) in lans
        .iter()
        .zip(marks.into_iter().zip([Impl::Keepvip, Impl::Keepalived]))
    {
        let adverts = lan.adverts_since(mark);
        let lower = from(lan, OTHER, ANSWERS, &adverts).len();
        let quiet = from(lan, WITH, QUIET, &adverts).len();
        let answers = from(lan, WITH, ANSWERS, &adverts).len();
        let what = format!(
            "{}: in {WINDOW:?}, {lower} lower adverts; the master sent {quiet} with \
             lower_prio_no_advert, {answers} without",
            imp.name()
        );
        eprintln!("{what}");
        assert!(lower >= 10, "{what}");
        // Its own interval: four in 2 s, one more at the edges.
        assert!((3..=6).contains(&quiet), "{what}");
        assert!(answers >= lower * 3 / 4, "{what}");
    }
}

/// A master (priority 100, every 0.5 s) hears a higher one take over
/// (priority 150): with `higher_prio_send_advert` (VRID 92) it sends one
/// advert at its own priority in answer, then falls silent as backup;
/// without (VRID 93), it falls silent at once.
#[test]
fn higher_prio_send_advert_answers_once_before_giving_way() {
    let Some(lock) = Lan::hold_lock() else {
        return;
    };
    let mut lans = Lan::side_by_side(&lock, &["hpsa-keepvip", "hpsa-keepalived"], 2);
    const ANSWERS: u8 = 92;
    const SILENT: u8 = 93;
    let imps = [Impl::Keepvip, Impl::Keepalived];
    for (lan, imp) in lans.iter_mut().zip(imps) {
        let with = format!(
            "{}{}",
            instance(ANSWERS, 100, "0.5", "    higher_prio_send_advert\n"),
            instance(SILENT, 100, "0.5", "")
        );
        lan.start(WITH, imp, &with);
    }
    let mut marks: Vec<Mark> = Vec::new();
    for (lan, imp) in lans.iter_mut().zip(imps) {
        for vrid in [ANSWERS, SILENT] {
            lan.wait_sole_holder(WITH, &vip(vrid), ELECTION);
        }
        marks.push(lan.mark());
        let higher = format!(
            "{}{}",
            instance(ANSWERS, 150, "0.1", ""),
            instance(SILENT, 150, "0.1", "")
        );
        lan.start(OTHER, other(imp), &higher);
    }
    for (lan, (mark, imp)) in lans.iter().zip(marks.into_iter().zip(imps)) {
        for vrid in [ANSWERS, SILENT] {
            lan.wait_sole_holder(OTHER, &vip(vrid), ELECTION);
        }
        // Three adverts of the new master: whatever came right after its
        // first is printed by then.
        lan.wait_until(CAPTURE_LAG, "the new master's adverts captured", || {
            let adverts = lan.adverts_since(mark);
            [ANSWERS, SILENT]
                .iter()
                .all(|&vrid| from(lan, OTHER, vrid, &adverts).len() >= 3)
        });
        let adverts = lan.adverts_since(mark);
        for vrid in [ANSWERS, SILENT] {
            let first = from(lan, OTHER, vrid, &adverts)[0];
            assert_eq!(first.priority, 150);
            let with = from(lan, WITH, vrid, &adverts);
            let after: Vec<&Advert> = with
                .iter()
                .copied()
                .filter(|a| a.time > first.time)
                .collect();
            // The old master's 0.5 s advert may fall due in the
            // millisecond the higher advert takes to be read: one on its
            // schedule is not an answer.
            let last_before = with.iter().rev().find(|a| a.time <= first.time);
            let periodic =
                |a: &Advert| last_before.is_some_and(|b| (a.time - b.time - 0.5).abs() < 0.02);
            let answers: Vec<&Advert> = after.iter().copied().filter(|a| !periodic(a)).collect();
            let what = format!(
                "{} VRID {vrid}: after the higher advert at {}, {after:?}",
                imp.name(),
                first.time
            );
            eprintln!("{what}");
            if vrid == SILENT {
                assert!(answers.is_empty() && after.len() <= 1, "{what}");
            } else {
                // One answer; or the periodic one, sent as it came, and
                // no other.
                let answer = match (after.len(), answers.len()) {
                    (1, _) => after[0],
                    (2, 1) => answers[0],
                    _ => panic!("{what}"),
                };
                assert_eq!(answer.priority, 100, "{what}");
                assert!(answer.time - first.time < 0.1, "{what}");
            }
        }
    }
}
