//! Random but valid LAN scenarios, replayable by seed: the routers' configs
//! (within what both keepalived 2.2.7 and keepvip understand) and a script
//! of events, each followed by a settle time long enough for every timer
//! the event can start (master_down, preempt_delay, rise/fall) to run out.
//!
//! Pure: no I/O. The runner renders a config with the router's directory
//! (where its check's flag file lives) and plays the steps.

use keepvip::vrrp::simulation::SplitMix64;
use std::fmt::Write as _;
use std::path::Path;

/// Seeds from here on also draw the features added after the first round
/// (two LANs, IPv6, notify scripts, VRRPv2 at 2 and 3 s); seeds below it
/// are the first generator's scenarios, unchanged, so that the fixed and
/// regression seeds (and any seed a report names) replay what they did.
pub const FEATURES_FROM_SEED: u64 = 10_000;

/// The interface `track_interface` watches: a dummy in the router's
/// namespace, set down and up by the script.
pub const TRACKED_IF: &str = "trk0";

/// One virtual router: the same VRID on every router of the LAN.
#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub vrid: u8,
    pub version: u8,
    /// Centiseconds (v2: whole seconds only).
    pub advert_cs: u32,
    pub unicast: bool,
    pub auth: Option<String>,
    pub vips: Vec<String>,
    pub excluded: Vec<String>,
    /// IPv6 VIPs (VRRPv3 only; a VRRP instance has one family).
    pub ipv6: bool,
    /// On LAN B (`eth1`) rather than LAN A (`eth0`).
    pub lan_b: bool,
    /// One per router, index 0 is r1.
    pub roles: Vec<Role>,
}

/// What one router says about one instance.
#[derive(Clone, Debug)]
pub struct Role {
    pub state_master: bool,
    /// None: the keyword is left out (100, or 255 under `state MASTER`).
    pub priority: Option<u8>,
    pub nopreempt: bool,
    pub preempt_delay: u32,
    /// `track_script { chk weight W [reverse] }` when the router has a check.
    pub track_check: Option<Weight>,
    /// `track_interface { trk0 [weight W] }`: None in the inner option is
    /// FAULT while down.
    pub track_link: Option<Option<i32>>,
}

#[derive(Clone, Copy, Debug)]
pub struct Weight {
    pub weight: i32,
    pub reverse: bool,
}

/// A router's `vrrp_script`: succeeds while its flag file exists.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub rise: u32,
    pub fall: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Starts these routers; more than one means at once.
    Start(Vec<usize>),
    /// Link down then SIGKILL: it says nothing on the way out.
    Kill(usize),
    /// Link up and the same daemon started again (after Kill or Stop).
    Revive(usize),
    /// SIGTERM: a graceful stop.
    Stop(usize),
    LinkDown(usize),
    LinkUp(usize),
    /// The router's LAN B link (`eth1`) down or up.
    LinkDownB(usize),
    LinkUpB(usize),
    CheckFail(usize),
    CheckPass(usize),
    TrackDown(usize),
    TrackUp(usize),
    /// The router's switch port off the bridge.
    Partition(usize),
    /// The router hears no multicast; its own adverts still go out.
    Deafen(usize),
    /// The port back on the bridge with multicast flooding.
    Heal(usize),
    /// The router's LAN B switch port off LAN B's bridge, and back.
    PartitionB(usize),
    HealB(usize),
    /// SIGHUP after the router's priority in an instance changed.
    Reprioritize {
        router: usize,
        instance: usize,
        priority: u8,
    },
    /// SIGHUP on every router after an instance's VIP list changed.
    Readdress {
        instance: usize,
        vips: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Step {
    pub action: Action,
    /// How long the runner waits after the action before it looks.
    pub settle_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub seed: u64,
    pub routers: usize,
    pub checks: Vec<Option<Check>>,
    /// Whether each router's check passes when the script begins.
    pub check_starts_ok: Vec<bool>,
    pub tracks_link: Vec<bool>,
    pub instances: Vec<Instance>,
    /// Both instances in one `vrrp_sync_group` (only with two).
    pub sync_group: bool,
    /// Every router on LAN B (`eth1`) as well, the second instance there.
    pub two_lans: bool,
    /// notify_master/backup/fault scripts that log each instance's state
    /// changes to a file per router.
    pub notify: bool,
    pub steps: Vec<Step>,
}

/// Where a router stands as the script is written, so that every action
/// generated is one that can be played (no revive of a running router).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Unstarted,
    Running,
    Dead,
}

#[derive(Clone, Debug)]
struct Stand {
    life: Life,
    link_up: bool,
    check_ok: bool,
    track_up: bool,
    port_ok: bool,
    link_b_up: bool,
    port_b_ok: bool,
}

impl Scenario {
    pub fn generate(seed: u64) -> Scenario {
        let mut rng = SplitMix64::new(seed ^ 0x6b65_6570_7669_7021);
        let routers = rng.range(2, 4) as usize;
        // Mostly fast VRRPv3 so that a scenario takes seconds.
        let version = if rng.chance(60) { 2 } else { 3 };
        let n_instances = if rng.chance(250) { 2 } else { 1 };
        let checks: Vec<Option<Check>> = (0..routers)
            .map(|_| {
                rng.chance(250).then(|| Check {
                    rise: rng.range(1, 2) as u32,
                    fall: rng.range(1, 2) as u32,
                })
            })
            .collect();
        let tracks_link: Vec<bool> = (0..routers).map(|_| rng.chance(200)).collect();
        let instances: Vec<Instance> = (0..n_instances)
            .map(|k| Instance::generate(&mut rng, k, version, routers, &checks, &tracks_link))
            .collect();
        // A stream of its own, so that adding it left every other draw of
        // a seed as it was.
        let mut sync_group = n_instances == 2 && SplitMix64::new(seed ^ 0x73_796e_6367).chance(500);
        let mut instances = instances;
        // The features added after the first round (two LANs, IPv6,
        // notify scripts, VRRPv2 slower than 1 s) draw from a stream of
        // their own too: a seed without them is the scenario it was.
        let mut features = SplitMix64::new(seed ^ 0x6665_6174_7572_6573);
        let later = seed >= FEATURES_FROM_SEED;
        if later && version == 2 && features.chance(300) {
            let advert_cs = [200, 300][features.below(2) as usize];
            for inst in &mut instances {
                inst.advert_cs = advert_cs;
            }
        }
        for inst in &mut instances {
            if later && version == 3 && features.chance(250) {
                inst.ipv6 = true;
                inst.vips = vip_list(&mut features, inst.vrid as usize - 50, true);
            }
        }
        let two_lans = later && features.chance(200);
        if two_lans {
            if instances.len() == 1 {
                instances.push(Instance::generate(
                    &mut features,
                    1,
                    version,
                    routers,
                    &checks,
                    &tracks_link,
                ));
                instances[1].advert_cs = instances[0].advert_cs;
            }
            let b = &mut instances[1];
            b.lan_b = true;
            // LAN B's instance is IPv4 (LAN B's routers have no global
            // IPv6 addresses for unicast), and its excluded addresses
            // keep off LAN B's own subnet (198.51.100.11-14).
            if b.ipv6 {
                b.ipv6 = false;
                b.vips = vip_list(&mut features, 1, false);
            }
            for a in &mut b.excluded {
                if a.starts_with("198.51.100.") {
                    *a = "203.0.113.11".to_string();
                }
            }
            sync_group = true;
        }
        let notify = later && features.chance(500);
        if sync_group {
            // An address owner in a group with members that are not:
            // keepalived says "This won't work" (and holds the owner back
            // with the group), so it is not generated.
            for role in instances.iter_mut().flat_map(|i| i.roles.iter_mut()) {
                if role.priority == Some(255) || (role.state_master && role.priority.is_none()) {
                    role.priority = Some(254);
                }
            }
        }
        let mut scenario = Scenario {
            seed,
            sync_group,
            two_lans,
            notify,
            routers,
            check_starts_ok: vec![true; routers],
            checks,
            tracks_link,
            instances,
            steps: Vec::new(),
        };
        scenario.generate_steps(&mut rng, &mut features);
        scenario
    }

    fn generate_steps(&mut self, rng: &mut SplitMix64, features: &mut SplitMix64) {
        let n = self.routers;
        let mut stand: Vec<Stand> = (0..n)
            .map(|_| Stand {
                life: Life::Unstarted,
                link_up: true,
                check_ok: true,
                track_up: true,
                port_ok: true,
                link_b_up: true,
                port_b_ok: true,
            })
            .collect();
        // Some checks start failing: the first result decides.
        for (i, c) in self.checks.iter().enumerate() {
            if c.is_some() && rng.chance(200) {
                stand[i].check_ok = false;
                self.check_starts_ok[i] = false;
            }
        }
        let mut order: Vec<usize> = (1..=n).collect();
        shuffle(rng, &mut order);
        // Starting together is a race in keepalived (who fires first);
        // it is only played where the settled outcome does not depend on
        // it: everyone preempts, no preempt_delay.
        let together = rng.chance(250) && self.race_free();
        let late = if !together && n > 2 && rng.chance(300) {
            order.pop()
        } else {
            None
        };
        if together {
            self.push(Action::Start(order.clone()));
        } else {
            for &r in &order {
                self.push(Action::Start(vec![r]));
            }
        }
        for &r in &order {
            stand[r - 1].life = Life::Running;
        }
        let events = rng.range(2, 5);
        let mut late = late;
        for _ in 0..events {
            if let Some(r) = late.filter(|_| rng.chance(300)) {
                self.push(Action::Start(vec![r]));
                stand[r - 1].life = Life::Running;
                late = None;
                continue;
            }
            let action = self.random_action(rng, features, &mut stand);
            self.push(action);
        }
    }

    /// Whether the outcome of a simultaneous start does not depend on who
    /// fires first.
    fn race_free(&self) -> bool {
        self.instances
            .iter()
            .all(|i| i.roles.iter().all(|r| !r.nopreempt && r.preempt_delay == 0))
            && self.checks.iter().all(Option::is_none)
    }

    fn random_action(
        &self,
        rng: &mut SplitMix64,
        features: &mut SplitMix64,
        stand: &mut [Stand],
    ) -> Action {
        loop {
            let r = rng.range(1, self.routers as u64) as usize;
            let s = &mut stand[r - 1];
            let pick = rng.below(12);
            // With two LANs, some link and port events are on LAN B (the
            // draw from the features stream only then: other seeds keep
            // their scripts).
            if self.two_lans
                && s.life == Life::Running
                && matches!(pick, 2 | 3 | 7 | 8)
                && features.chance(500)
            {
                return if matches!(pick, 2 | 3) {
                    s.link_b_up = !s.link_b_up;
                    if s.link_b_up {
                        Action::LinkUpB(r)
                    } else {
                        Action::LinkDownB(r)
                    }
                } else {
                    s.port_b_ok = !s.port_b_ok;
                    if s.port_b_ok {
                        Action::HealB(r)
                    } else {
                        Action::PartitionB(r)
                    }
                };
            }
            let action = match (pick, s.life) {
                (0, Life::Running) => {
                    s.life = Life::Dead;
                    s.link_up = true;
                    s.link_b_up = true;
                    Action::Kill(r)
                }
                (1, Life::Running) => {
                    s.life = Life::Dead;
                    Action::Stop(r)
                }
                (0..=2, Life::Dead) => {
                    s.life = Life::Running;
                    s.link_up = true;
                    s.link_b_up = true;
                    Action::Revive(r)
                }
                (2, Life::Running) if s.link_up => {
                    s.link_up = false;
                    Action::LinkDown(r)
                }
                (2 | 3, Life::Running) if !s.link_up => {
                    s.link_up = true;
                    Action::LinkUp(r)
                }
                (4 | 5, Life::Running) if self.checks[r - 1].is_some() => {
                    s.check_ok = !s.check_ok;
                    if s.check_ok {
                        Action::CheckPass(r)
                    } else {
                        Action::CheckFail(r)
                    }
                }
                (6, Life::Running) if self.tracks_link[r - 1] => {
                    s.track_up = !s.track_up;
                    if s.track_up {
                        Action::TrackUp(r)
                    } else {
                        Action::TrackDown(r)
                    }
                }
                (7 | 8, Life::Running) => {
                    if s.port_ok {
                        s.port_ok = false;
                        if rng.chance(500) {
                            Action::Partition(r)
                        } else {
                            Action::Deafen(r)
                        }
                    } else {
                        s.port_ok = true;
                        Action::Heal(r)
                    }
                }
                // keepalived 2.2.7 applies a reversed weight with its sign
                // un-reversed after SIGHUP (seed 1262: weight 60 reverse,
                // check up: 100 -> 40 at start, 200 -> 254 on reload), a
                // bug keepvip does not copy: no reloads with reversed weights.
                (9..=11, _) if self.reverses() => continue,
                (9 | 10, Life::Running) => {
                    let instance = rng.below(self.instances.len() as u64) as usize;
                    let role = &self.instances[instance].roles[r - 1];
                    if role.priority == Some(255) || (role.state_master && role.priority.is_none())
                    {
                        continue;
                    }
                    Action::Reprioritize {
                        router: r,
                        instance,
                        priority: random_priority(rng),
                    }
                }
                (11, _) => {
                    let instance = rng.below(self.instances.len() as u64) as usize;
                    let inst = &self.instances[instance];
                    // keepalived 2.2.7 drops an advert whose address list
                    // differs from its own, so between the SIGHUPs it may
                    // miss one: only where three intervals outlast that.
                    if inst.advert_cs < 50 {
                        continue;
                    }
                    Action::Readdress {
                        instance,
                        vips: vip_list(rng, instance, inst.ipv6),
                    }
                }
                _ => continue,
            };
            return action;
        }
    }

    fn reverses(&self) -> bool {
        self.instances
            .iter()
            .flat_map(|i| &i.roles)
            .any(|r| r.track_check.is_some_and(|w| w.reverse))
    }

    fn push(&mut self, action: Action) {
        let settle_ms = self.settle_ms(&action);
        self.steps.push(Step { action, settle_ms });
    }

    /// Enough for whatever the action sets off to finish, in the slowest
    /// case: a check to change its verdict (fall or rise runs of 1 s, plus
    /// one interval of phase), preempt_delay, a master_down of the lowest
    /// priority, and the adverts and GARPs that follow, plus start-up.
    fn settle_ms(&self, action: &Action) -> u64 {
        let mut ms = 0u64;
        for inst in &self.instances {
            let adv = u64::from(inst.advert_cs) * 10;
            let skew = if inst.version == 2 { 1000 } else { adv };
            let delay = inst
                .roles
                .iter()
                .map(|r| u64::from(r.preempt_delay) * 1000)
                .max()
                .unwrap_or(0);
            ms = ms.max(3 * adv + skew + delay + 2 * adv);
        }
        let check_runs = self
            .checks
            .iter()
            .flatten()
            .map(|c| u64::from(c.rise.max(c.fall)))
            .max()
            .unwrap_or(0);
        let check_ms = if check_runs > 0 {
            check_runs * 1000 + 1000
        } else {
            0
        };
        ms += match action {
            Action::CheckFail(_) | Action::CheckPass(_) => check_ms,
            Action::Start(_) | Action::Revive(_) => check_ms + 700,
            Action::Reprioritize { .. } | Action::Readdress { .. } => 500,
            _ => 0,
        };
        ms + 600
    }

    /// keepalived.conf for router `r` (1-based); `dir` is where its check's
    /// flag file lives.
    pub fn config(&self, r: usize, dir: &Path) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "! conformance seed {} router r{r}", self.seed);
        let _ = writeln!(s, "global_defs {{\n    router_id r{r}\n}}");
        if let Some(c) = self.checks[r - 1] {
            let _ = writeln!(
                s,
                "vrrp_script chk {{\n    script \"/bin/sh -c 'test -f {}'\"\n    interval 1\n    rise {}\n    fall {}\n}}",
                flag_path(dir).display(),
                c.rise,
                c.fall
            );
        }
        if self.sync_group {
            let _ = writeln!(s, "vrrp_sync_group G {{\n    group {{");
            for inst in &self.instances {
                let _ = writeln!(s, "        {}", inst.name);
            }
            let _ = writeln!(s, "    }}\n}}");
        }
        let notify_log = self.notify.then(|| notify_path(dir));
        for inst in &self.instances {
            inst.render(&mut s, r, notify_log.as_deref());
        }
        s
    }

    /// Every address some instance may own during the script.
    pub fn addresses(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        let lists = self.instances.iter().flat_map(|i| [&i.vips, &i.excluded]);
        let changed = self.steps.iter().filter_map(|s| match &s.action {
            Action::Readdress { vips, .. } => Some(vips),
            _ => None,
        });
        for a in lists.chain(changed).flatten() {
            if !all.contains(a) {
                all.push(a.clone());
            }
        }
        all
    }

    /// Whether `addr` belongs to the instance on LAN B (the daemon puts
    /// it on eth1).
    pub fn on_lan_b(&self, addr: &str) -> bool {
        self.instances.iter().enumerate().any(|(k, inst)| {
            inst.lan_b
                && (inst.vips.iter().chain(&inst.excluded).any(|a| a == addr)
                    || self.steps.iter().any(|s| {
                        matches!(&s.action, Action::Readdress { instance, vips }
                            if *instance == k && vips.iter().any(|a| a == addr))
                    }))
        })
    }

    /// The instances as they stand after `steps` actions (priorities and
    /// VIP lists changed by reloads applied).
    pub fn after(&self, steps: usize) -> Scenario {
        let mut s = self.clone();
        for step in &self.steps[..steps] {
            match &step.action {
                Action::Reprioritize {
                    router,
                    instance,
                    priority,
                } => s.instances[*instance].roles[router - 1].priority = Some(*priority),
                Action::Readdress { instance, vips } => s.instances[*instance].vips = vips.clone(),
                _ => {}
            }
        }
        s
    }

    /// A short human-readable account of the configs.
    pub fn describe(&self) -> String {
        let mut s = format!("seed {}: {} routers", self.seed, self.routers);
        if self.sync_group {
            s.push_str(", sync group of both instances");
        }
        if self.two_lans {
            s.push_str(" (one on each LAN)");
        }
        if self.notify {
            s.push_str(", notify scripts");
        }
        for (i, c) in self.checks.iter().enumerate() {
            if let Some(c) = c {
                let _ = write!(s, ", r{} check rise {} fall {}", i + 1, c.rise, c.fall);
            }
            if self.tracks_link[i] {
                let _ = write!(s, ", r{} tracks {TRACKED_IF}", i + 1);
            }
        }
        for inst in &self.instances {
            let _ = write!(
                s,
                "\n  {}{} vrid {} v{} advert {}cs{}{} vips {:?} excluded {:?}",
                inst.name,
                if inst.lan_b { " on eth1" } else { "" },
                inst.vrid,
                inst.version,
                inst.advert_cs,
                if inst.unicast { " unicast" } else { "" },
                if inst.auth.is_some() { " PASS" } else { "" },
                inst.vips,
                inst.excluded
            );
            for (i, r) in inst.roles.iter().enumerate() {
                let _ = write!(
                    s,
                    "\n    r{}: {} prio {}{}{}{}{}",
                    i + 1,
                    if r.state_master { "MASTER" } else { "BACKUP" },
                    r.priority.map_or("-".to_string(), |p| p.to_string()),
                    if r.nopreempt { " nopreempt" } else { "" },
                    if r.preempt_delay > 0 {
                        format!(" preempt_delay {}", r.preempt_delay)
                    } else {
                        String::new()
                    },
                    r.track_check.map_or(String::new(), |w| format!(
                        " track chk weight {}{}",
                        w.weight,
                        if w.reverse { " reverse" } else { "" }
                    )),
                    match r.track_link {
                        None => String::new(),
                        Some(None) => format!(" track {TRACKED_IF}"),
                        Some(Some(w)) => format!(" track {TRACKED_IF} weight {w}"),
                    }
                );
            }
        }
        s
    }
}

pub fn flag_path(dir: &Path) -> std::path::PathBuf {
    dir.join("check-ok")
}

/// Where a router's notify scripts write "INSTANCE STATE" lines.
pub fn notify_path(dir: &Path) -> std::path::PathBuf {
    dir.join("notify.log")
}

fn shuffle(rng: &mut SplitMix64, v: &mut [usize]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// Priorities bunch around a few values so that ties happen.
fn random_priority(rng: &mut SplitMix64) -> u8 {
    const COMMON: [u8; 5] = [50, 100, 100, 150, 200];
    if rng.chance(600) {
        COMMON[rng.below(COMMON.len() as u64) as usize]
    } else {
        rng.range(1, 254) as u8
    }
}

/// One to three VIPs of the instance's own block: IPv4, or IPv6 apart
/// from the routers' (2001:db8::11-14) and the excluded addresses.
fn vip_list(rng: &mut SplitMix64, instance: usize, ipv6: bool) -> Vec<String> {
    let base = 100 + 10 * instance as u64;
    let mut v: Vec<String> = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let host = base + rng.below(4);
        let a = if ipv6 {
            format!("2001:db8::1:{host}")
        } else {
            format!("192.0.2.{host}")
        };
        if !v.contains(&a) {
            v.push(a);
        }
    }
    v
}

impl Instance {
    fn generate(
        rng: &mut SplitMix64,
        k: usize,
        version: u8,
        routers: usize,
        checks: &[Option<Check>],
        tracks_link: &[bool],
    ) -> Instance {
        let advert_cs = if version == 2 {
            100
        } else {
            match rng.below(10) {
                0..=5 => 10,
                6 | 7 => 20,
                8 => 30,
                _ => [50, 100][rng.below(2) as usize],
            }
        };
        let mut owner_taken = false;
        let roles = (0..routers)
            .map(|i| {
                let state_master = rng.chance(300);
                let mut priority = if rng.chance(100) {
                    None
                } else {
                    Some(random_priority(rng))
                };
                if owner_taken && priority.is_none() {
                    priority = Some(random_priority(rng));
                }
                if !owner_taken && state_master && rng.chance(200) {
                    priority = Some(255);
                }
                // `state MASTER` without a priority is 255 too.
                let owner = priority == Some(255) || (state_master && priority.is_none());
                owner_taken |= owner;
                // Cleared by both daemons under MASTER (with a warning).
                let backup = !state_master;
                let nopreempt = backup && rng.chance(250);
                let preempt_delay = if backup && !nopreempt && rng.chance(150) {
                    rng.range(1, 2) as u32
                } else {
                    0
                };
                let track_check = (checks[i].is_some() && !owner).then(|| {
                    let weight = match rng.below(4) {
                        0 => 0,
                        1 => rng.range(10, 60) as i32,
                        _ => -(rng.range(10, 60) as i32),
                    };
                    Weight {
                        weight,
                        reverse: weight != 0 && rng.chance(250),
                    }
                });
                let track_link = (tracks_link[i] && !owner)
                    .then(|| rng.chance(400).then(|| -(rng.range(10, 60) as i32)));
                Role {
                    state_master,
                    priority,
                    nopreempt,
                    preempt_delay,
                    track_check,
                    track_link,
                }
            })
            .collect();
        let mut excluded = Vec::new();
        if rng.chance(200) {
            excluded.push(format!("198.51.100.{}", 10 + k));
        }
        if rng.chance(100) {
            excluded.push(format!("2001:db8::{:x}", 0x100 + k));
        }
        Instance {
            name: format!("VI_{}", k + 1),
            vrid: 50 + k as u8,
            version,
            advert_cs,
            unicast: rng.chance(150),
            auth: (version == 2 && rng.chance(500)).then(|| "s3cret".to_string()),
            vips: vip_list(rng, k, false),
            excluded,
            ipv6: false,
            lan_b: false,
            roles,
        }
    }

    /// `notify_log`: where the notify scripts append, if there are any.
    fn render(&self, s: &mut String, r: usize, notify_log: Option<&Path>) {
        let role = &self.roles[r - 1];
        let _ = writeln!(s, "vrrp_instance {} {{", self.name);
        let state = if role.state_master {
            "MASTER"
        } else {
            "BACKUP"
        };
        let interface = if self.lan_b { "eth1" } else { "eth0" };
        let _ = writeln!(s, "    state {state}\n    interface {interface}");
        let _ = writeln!(s, "    virtual_router_id {}", self.vrid);
        let _ = writeln!(s, "    version {}", self.version);
        if let Some(p) = role.priority {
            let _ = writeln!(s, "    priority {p}");
        }
        let adv = if self.advert_cs.is_multiple_of(100) {
            format!("{}", self.advert_cs / 100)
        } else {
            format!("{}.{:02}", self.advert_cs / 100, self.advert_cs % 100)
        };
        let _ = writeln!(s, "    advert_int {adv}");
        if role.nopreempt {
            let _ = writeln!(s, "    nopreempt");
        }
        if role.preempt_delay > 0 {
            let _ = writeln!(s, "    preempt_delay {}", role.preempt_delay);
        }
        // No second GARP burst: every burst then marks a transition.
        let _ = writeln!(s, "    garp_master_delay 0");
        if let Some(log) = notify_log {
            for (keyword, state) in [
                ("notify_master", "MASTER"),
                ("notify_backup", "BACKUP"),
                ("notify_fault", "FAULT"),
            ] {
                let _ = writeln!(
                    s,
                    "    {keyword} \"/bin/sh -c 'echo {} {state} >> {}'\"",
                    self.name,
                    log.display()
                );
            }
        }
        if let Some(pass) = &self.auth {
            let _ = writeln!(
                s,
                "    authentication {{\n        auth_type PASS\n        auth_pass {pass}\n    }}"
            );
        }
        if self.unicast {
            // The harness's addresses: LAN A 192.0.2.1r and 2001:db8::1r,
            // LAN B 198.51.100.1r.
            let addr = |r: usize| match (self.ipv6, self.lan_b) {
                (true, _) => format!("2001:db8::{:x}", 0x10 + r),
                (false, false) => format!("192.0.2.{}", 10 + r),
                (false, true) => format!("198.51.100.{}", 10 + r),
            };
            let _ = writeln!(s, "    unicast_src_ip {}", addr(r));
            let _ = writeln!(s, "    unicast_peer {{");
            for peer in (1..=self.roles.len()).filter(|&p| p != r) {
                let _ = writeln!(s, "        {}", addr(peer));
            }
            let _ = writeln!(s, "    }}");
        }
        if let Some(w) = role.track_check {
            let reverse = if w.reverse { " reverse" } else { "" };
            let _ = writeln!(
                s,
                "    track_script {{\n        chk weight {}{reverse}\n    }}",
                w.weight
            );
        }
        match role.track_link {
            None => {}
            Some(None) => {
                let _ = writeln!(s, "    track_interface {{\n        {TRACKED_IF}\n    }}");
            }
            Some(Some(w)) => {
                let _ = writeln!(
                    s,
                    "    track_interface {{\n        {TRACKED_IF} weight {w}\n    }}"
                );
            }
        }
        let _ = writeln!(s, "    virtual_ipaddress {{");
        for v in &self.vips {
            let _ = writeln!(s, "        {v}");
        }
        let _ = writeln!(s, "    }}");
        if !self.excluded.is_empty() {
            let _ = writeln!(s, "    virtual_ipaddress_excluded {{");
            for v in &self.excluded {
                let _ = writeln!(s, "        {v}");
            }
            let _ = writeln!(s, "    }}");
        }
        let _ = writeln!(s, "}}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_scenario_every_time() {
        for seed in 0..200 {
            let a = Scenario::generate(seed);
            let b = Scenario::generate(seed);
            assert_eq!(a.steps.len(), b.steps.len());
            let dir = Path::new("/x");
            for r in 1..=a.routers {
                assert_eq!(a.config(r, dir), b.config(r, dir));
            }
            assert_eq!(format!("{:?}", a.steps), format!("{:?}", b.steps));
        }
    }

    #[test]
    fn every_generated_config_loads_in_keepvip() {
        for seed in (0..500).chain(FEATURES_FROM_SEED..FEATURES_FROM_SEED + 500) {
            let s = Scenario::generate(seed);
            for steps in [0, s.steps.len()] {
                let s = s.after(steps);
                for r in 1..=s.routers {
                    let text = s.config(r, Path::new("/tmp/r"));
                    if let Err(e) = keepvip::config::parse_str(&text, Path::new("r.conf")) {
                        panic!("seed {seed} r{r}: {e:?}\n{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_later_features_come_from_their_first_seed_on_only() {
        let has = |s: &Scenario| {
            [
                s.two_lans,
                s.instances.iter().any(|i| i.ipv6),
                s.notify,
                s.instances.iter().any(|i| i.advert_cs > 100),
            ]
        };
        for seed in 0..FEATURES_FROM_SEED.min(2000) {
            assert_eq!(has(&Scenario::generate(seed)), [false; 4], "seed {seed}");
        }
        let mut seen = [0; 4];
        for seed in FEATURES_FROM_SEED..FEATURES_FROM_SEED + 400 {
            let s = Scenario::generate(seed);
            for (n, f) in seen.iter_mut().zip(has(&s)) {
                *n += usize::from(f);
            }
            if s.two_lans {
                assert!(s.sync_group && s.instances[1].lan_b && !s.instances[1].ipv6);
            }
        }
        // Two LANs, IPv6, notify scripts, slow VRRPv2 (rare: slow).
        assert!(
            seen[0] > 40 && seen[1] > 40 && seen[2] > 100 && seen[3] >= 3,
            "{seen:?}"
        );
    }

    #[test]
    fn scripts_only_revive_the_dead_and_start_each_router_once() {
        for seed in 0..500 {
            let s = Scenario::generate(seed);
            let mut running = vec![false; s.routers];
            let mut started = vec![false; s.routers];
            for step in &s.steps {
                match &step.action {
                    Action::Start(rs) => {
                        for &r in rs {
                            assert!(!started[r - 1], "seed {seed}: r{r} started twice");
                            started[r - 1] = true;
                            running[r - 1] = true;
                        }
                    }
                    Action::Revive(r) => {
                        assert!(!running[r - 1], "seed {seed}: revive of running r{r}");
                        running[r - 1] = true;
                    }
                    Action::Kill(r) | Action::Stop(r) => {
                        assert!(running[r - 1], "seed {seed}: r{r} not running");
                        running[r - 1] = false;
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod print {
    #[test]
    #[ignore]
    fn print_scenarios() {
        let seeds: Vec<u64> = std::env::var("SEEDS")
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or((0..40).collect());
        for seed in seeds {
            let s = super::Scenario::generate(seed);
            let total: u64 = s.steps.iter().map(|s| s.settle_ms).sum();
            eprintln!("{} total {total} ms", s.describe());
            for st in &s.steps {
                eprintln!("   {:?} {}", st.action, st.settle_ms);
            }
            if std::env::var_os("PRINT_CONFIGS").is_some() {
                for r in 1..=s.routers {
                    eprintln!("{}", s.config(r, std::path::Path::new("/DIR")));
                }
            }
        }
    }
}
