//! Plays one scenario on a namespace LAN with a given daemon per router and
//! records what happened: after each step, who holds every address (from
//! the routers' interfaces) and who advertises with which priority; during
//! each step, every takeover (a burst of gratuitous ARPs or unsolicited
//! NAs, from the bridge capture) with its time.

use super::scenario::{flag_path, notify_path, Action, Scenario, TRACKED_IF};
use crate::common::{Impl, Lan, Port};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One takeover: `router` started announcing the address.
#[derive(Clone, Debug)]
pub struct Takeover {
    pub router: usize,
    /// Seconds since the step's action.
    pub at: f64,
    /// Seconds since the last advert of the instance from another router
    /// (the moment the new master's master_down timer last restarted, for
    /// a takeover by timeout); None if there was none.
    pub silence: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct StepRecord {
    /// Address -> routers holding it (daemon running) once settled.
    pub holders: BTreeMap<String, BTreeSet<usize>>,
    /// Address -> takeovers during the step, in time order.
    pub takeovers: BTreeMap<String, Vec<Takeover>>,
    /// VRID -> (router, advertised priority) seen in the step's last
    /// intervals: the settled master(s).
    pub advertisers: BTreeMap<u8, BTreeSet<(usize, u8)>>,
    /// Routers whose daemon had exited without being told to.
    pub crashed: Vec<usize>,
    /// Router -> the lines its notify scripts wrote during the step
    /// ("VI_1 MASTER"), as far as they had run when the step settled.
    pub notified: BTreeMap<usize, Vec<String>>,
}

#[derive(Clone, Debug)]
pub struct Record {
    pub way: String,
    pub imps: Vec<Impl>,
    pub steps: Vec<StepRecord>,
    /// The longest stall a daemon reported of itself, in seconds:
    /// keepalived logs "A thread timer expired 1.787811 seconds ago" when
    /// its process did not run for that long (seen under load, up to 2 s).
    /// A run with one longer than the tolerance tells nothing.
    pub stall: f64,
    /// Router -> every line its notify scripts wrote, in order: the whole
    /// run, read after the last step (a script still running at the end
    /// of a step has finished by then).
    pub notified: BTreeMap<usize, Vec<String>>,
}

/// The longest "A thread timer expired N seconds ago" in a daemon log.
fn longest_stall(log: &str) -> f64 {
    log.lines()
        .filter_map(|l| {
            l.split_once("A thread timer expired ")?
                .1
                .split_whitespace()
                .next()
        })
        .filter_map(|n| n.parse::<f64>().ok())
        .fold(0.0, f64::max)
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn router_dir(lan: &Lan, r: usize) -> std::path::PathBuf {
    lan.dir().join(format!("r{r}"))
}

/// Plays `scenario` on `lan` (which has `scenario.routers` routers) with
/// `imps[r - 1]` on router r.
pub fn play(lan: &mut Lan, scenario: &Scenario, way: &str, imps: &[Impl]) -> Record {
    if scenario.two_lans {
        lan.add_second_lan();
        lan.capture_second_lan();
    }
    for r in 1..=scenario.routers {
        if scenario.tracks_link[r - 1] {
            lan.add_dummy(r, TRACKED_IF);
        }
        if scenario.checks[r - 1].is_some() && scenario.check_starts_ok[r - 1] {
            fs::write(flag_path(&router_dir(lan, r)), "").expect("write flag");
        }
    }
    // Which routers should be running: a daemon that exited otherwise
    // crashed, which is a finding, not a harness error.
    let mut should_run = vec![false; scenario.routers];
    let mut times = Vec::new();
    let mut records = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let mut record = StepRecord::default();
        times.push(wall_now());
        apply(lan, scenario, imps, i, &step.action, &mut should_run);
        std::thread::sleep(Duration::from_millis(step.settle_ms));
        for r in 1..=scenario.routers {
            if should_run[r - 1] && !lan.running(r) {
                record.crashed.push(r);
                should_run[r - 1] = false;
            }
        }
        for addr in scenario.addresses() {
            let dev = if scenario.on_lan_b(&addr) {
                "eth1"
            } else {
                "eth0"
            };
            let held: BTreeSet<usize> = (1..=scenario.routers)
                .filter(|&r| lan.running(r) && lan.holds_vip_on(r, dev, &addr))
                .collect();
            record.holders.insert(addr, held);
        }
        for r in 1..=scenario.routers {
            let lines = notified(lan, r);
            let seen: usize = records
                .iter()
                .map(|s: &StepRecord| s.notified.get(&r).map_or(0, Vec::len))
                .sum();
            let new = lines.get(seen..).unwrap_or_default().to_vec();
            if !new.is_empty() {
                record.notified.insert(r, new);
            }
        }
        records.push(record);
    }
    let end = wall_now();
    // tcpdump writes each line as it prints it; give it a moment for the
    // last ones.
    std::thread::sleep(Duration::from_millis(300));
    times.push(end);
    read_capture(lan, scenario, &times, &mut records);
    let stall = (1..=scenario.routers)
        .map(|r| longest_stall(&lan.log(r)))
        .fold(0.0, f64::max);
    let notified = (1..=scenario.routers)
        .map(|r| (r, notified(lan, r)))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    Record {
        way: way.to_string(),
        imps: imps.to_vec(),
        steps: records,
        stall,
        notified,
    }
}

/// The lines router `r`'s notify scripts have written so far.
fn notified(lan: &Lan, r: usize) -> Vec<String> {
    fs::read_to_string(notify_path(&router_dir(lan, r)))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

fn apply(
    lan: &mut Lan,
    scenario: &Scenario,
    imps: &[Impl],
    i: usize,
    action: &Action,
    should_run: &mut [bool],
) {
    let now = scenario.after(i);
    match action {
        Action::Start(rs) => {
            // Configs written first so that a "together" start is as close
            // together as spawning allows.
            let configs: Vec<String> = rs
                .iter()
                .map(|&r| now.config(r, &router_dir(lan, r)))
                .collect();
            for (&r, config) in rs.iter().zip(&configs) {
                lan.start(r, imps[r - 1], config);
                should_run[r - 1] = true;
            }
        }
        Action::Kill(r) => {
            if lan.running(*r) {
                lan.kill(*r);
            }
            should_run[r - 1] = false;
        }
        Action::Stop(r) => {
            if lan.running(*r) {
                lan.stop(*r);
            }
            should_run[r - 1] = false;
        }
        Action::Revive(r) => {
            if !lan.running(*r) {
                lan.revive(*r);
                should_run[r - 1] = true;
            }
        }
        Action::LinkDown(r) => lan.set_link(*r, false),
        Action::LinkUp(r) => lan.set_link(*r, true),
        Action::LinkDownB(r) => lan.set_interface(*r, "eth1", false),
        Action::LinkUpB(r) => lan.set_interface(*r, "eth1", true),
        Action::PartitionB(r) => lan.set_switch_port(*r, true, false),
        Action::HealB(r) => lan.set_switch_port(*r, true, true),
        Action::CheckFail(r) => {
            let _ = fs::remove_file(flag_path(&router_dir(lan, *r)));
        }
        Action::CheckPass(r) => {
            fs::write(flag_path(&router_dir(lan, *r)), "").expect("write flag");
        }
        Action::TrackDown(r) => lan.set_interface(*r, TRACKED_IF, false),
        Action::TrackUp(r) => lan.set_interface(*r, TRACKED_IF, true),
        Action::Partition(r) => lan.set_port(*r, Port::Detached),
        Action::Deafen(r) => lan.set_port(*r, Port::DeafToMulticast),
        Action::Heal(r) => lan.set_port(*r, Port::Bridged),
        Action::Reprioritize { router, .. } => {
            let next = scenario.after(i + 1);
            let config = next.config(*router, &router_dir(lan, *router));
            lan.reload(*router, &config);
        }
        Action::Readdress { .. } => {
            let next = scenario.after(i + 1);
            let configs: Vec<String> = (1..=scenario.routers)
                .map(|r| next.config(r, &router_dir(lan, r)))
                .collect();
            for (r, config) in configs.iter().enumerate() {
                lan.reload(r + 1, config);
            }
        }
    }
}

fn read_capture(lan: &Lan, scenario: &Scenario, times: &[f64], records: &mut [StepRecord]) {
    // With two LANs, both captures merged in time order; each router is
    // known by either MAC.
    let lan_b_macs: Vec<String> = if scenario.two_lans {
        (1..=scenario.routers)
            .map(|r| lan.second_lan_mac(r))
            .collect()
    } else {
        Vec::new()
    };
    let router_of = |mac: &str| {
        (1..=scenario.routers)
            .find(|&r| lan.mac(r) == mac || lan_b_macs.get(r - 1).is_some_and(|m| m == mac))
    };
    let mut adverts = lan.adverts_since(crate::common::Mark::START);
    let mut announcements = lan.announcements_since(crate::common::Mark::START);
    if scenario.two_lans {
        adverts.extend(lan.second_lan_adverts());
        adverts.sort_by(|a, b| a.time.total_cmp(&b.time));
        announcements.extend(lan.second_lan_announcements());
        announcements.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let vrid_of: BTreeMap<String, (u8, u32)> = {
        let mut m = BTreeMap::new();
        for step in 0..=scenario.steps.len() {
            for inst in &scenario.after(step).instances {
                for a in inst.vips.iter().chain(&inst.excluded) {
                    m.insert(a.clone(), (inst.vrid, inst.advert_cs));
                }
            }
        }
        m
    };
    // A takeover is an announcement by a router that was not the last to
    // announce the address, or that did not hold it when the step began.
    // Other announcements are the holder's own repeats (keepalived answers
    // every lower-priority advert with a burst, and repeats it 5 s later),
    // not moves.
    let addresses = scenario.addresses();
    let mut last_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut counted: BTreeSet<(usize, usize, String)> = BTreeSet::new();
    for (t, mac, addr) in announcements {
        let Some(r) = router_of(&mac) else { continue };
        if !addresses.contains(&addr) {
            continue;
        }
        let Some(step) = (0..records.len()).rev().find(|&s| times[s] <= t) else {
            continue;
        };
        let moved = last_by
            .insert(addr.clone(), r)
            .is_some_and(|prev| prev != r);
        let held_before = step > 0
            && records[step - 1]
                .holders
                .get(&addr)
                .is_some_and(|h| h.contains(&r));
        let first_in_step = counted.insert((step, r, addr.clone()));
        if !moved && (held_before || !first_in_step) {
            continue;
        }
        let silence = vrid_of.get(&addr).and_then(|(vrid, _)| {
            adverts
                .iter()
                .filter(|a| a.vrid == *vrid && a.time < t && router_of(&a.src_mac) != Some(r))
                .map(|a| t - a.time)
                .reduce(f64::min)
        });
        records[step]
            .takeovers
            .entry(addr)
            .or_default()
            .push(Takeover {
                router: r,
                at: t - times[step],
                silence,
            });
    }
    for (s, record) in records.iter_mut().enumerate() {
        let end = times[s + 1];
        for inst in &scenario.after(s + 1).instances {
            // Two and a half intervals: every master sent at least twice.
            let window = 2.5 * f64::from(inst.advert_cs) / 100.0;
            let set: BTreeSet<(usize, u8)> = adverts
                .iter()
                .filter(|a| a.vrid == inst.vrid && a.time > end - window && a.time <= end)
                .filter_map(|a| Some((router_of(&a.src_mac)?, a.priority)))
                .collect();
            record.advertisers.insert(inst.vrid, set);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_longest_stall_keepalived_reported() {
        let log = "Mon Nov 30 11:07:49 2026: A thread timer expired 1.787811 seconds ago\n\
                   Mon Nov 30 11:07:49 2026: (VI_1) Entering MASTER STATE\n\
                   Mon Nov 30 11:08:13 2026: A thread timer expired 0.05 seconds ago\n";
        assert_eq!(super::longest_stall(log), 1.787811);
        assert_eq!(
            super::longest_stall("keepvip[1]: (VI_1) Entering MASTER STATE\n"),
            0.0
        );
    }
}
