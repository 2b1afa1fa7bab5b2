//! A LAN of routers in memory: real [`Instance`] state machines, a fake
//! clock, adverts delivered to every live router of the same VRID after a
//! latency.
//!
//! It exists so that whole scenarios (the seed article's four cases, start
//! orders, deaths and returns) are tested against the same state machine the
//! daemon runs, in milliseconds and without root. Faults (packet loss, delay
//! jitter, partitions) are drawn from a seeded [`SplitMix64`], so that a
//! randomised run is replayed exactly from its seed; with none set, the LAN
//! is lossless and every delivery takes exactly `latency`.

use std::net::Ipv4Addr;

use super::advert::Advert;
use super::instance::{Action, Instance, State};
use super::sync_group::{group_move, held_in_fault, waits_for_checks, Event, Member, Move};
use super::timers::{Micros, MICROS_PER_SECOND};
use crate::config::InstanceConfig;
use crate::tracking::health::Health;
use crate::tracking::verdict::{awaiting_first_result, verdict, Tracked, Verdict, Weight};

/// A check script a router tracks, whose results are known in advance:
/// the same health and verdict code as the daemon's decides what they do.
#[derive(Debug, Clone)]
pub struct SimCheck {
    pub weight: Weight,
    /// Whether every run succeeds (or every run fails).
    pub passing: bool,
    pub rise: u32,
    pub fall: u32,
    /// From the router's start to its first result (the first run starts
    /// at once, but a script may be slow).
    pub first_result_after: Micros,
    /// Between results after that.
    pub interval: Micros,
}

/// A check of a running router.
#[derive(Debug, Clone)]
struct RunningCheck {
    health: Health,
    next_result: Micros,
}

/// One router on the simulated LAN.
#[derive(Debug)]
pub struct SimRouter {
    pub name: String,
    pub config: InstanceConfig,
    pub address: Ipv4Addr,
    pub instance: Instance,
    /// False between a silent death and a return.
    pub alive: bool,
    /// Whether its interface carries the virtual addresses.
    pub holds_addresses: bool,
    pub garp_bursts: u32,
    pub adverts_sent: u32,
    /// When an advert last reached it (accepted or not), for exact timer
    /// checks.
    pub last_heard: Option<Micros>,
    /// The check it tracks from its next start, if any.
    pub check: Option<SimCheck>,
    running_check: Option<RunningCheck>,
}

/// A state change, for timelines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at: Micros,
    /// The router's index on the LAN.
    pub index: usize,
    pub router: String,
    pub from: State,
    pub to: State,
}

/// One advert on its way from one router to one other: each receiver has
/// its own copy, so loss and delay are drawn per receiver, as on a switch.
struct InFlight {
    deliver_at: Micros,
    from: usize,
    to: usize,
    advert: Advert,
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator whose
/// whole state is one seed, so a failing run is replayed from its number.
/// Not for anything but simulations.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0); the modulo bias is irrelevant at the
    /// sizes simulations use.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }
}

/// What the LAN does to packets, changeable at any time.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Each delivery (one sender to one receiver) is lost with this
    /// probability, in thousandths.
    pub loss_per_mille: u32,
    /// Each delivery takes `latency` plus up to this much more, so adverts
    /// from different senders can cross (one sender's stay in order).
    pub jitter: Micros,
    /// A partition: routers deliver only to routers in the same segment.
    /// Empty (or too short) means every router is in segment 0.
    pub segments: Vec<u8>,
}

pub struct SimLan {
    now: Micros,
    latency: Micros,
    routers: Vec<SimRouter>,
    in_flight: Vec<InFlight>,
    faults: Faults,
    rng: SplitMix64,
    /// Deliveries dropped by `faults.loss_per_mille` or a partition.
    pub lost: u64,
    pub transitions: Vec<Transition>,
    /// Sync groups: the routers (instances) of one group are one box, which
    /// starts, dies and stops as a whole.
    groups: Vec<Vec<usize>>,
}

impl SimLan {
    /// `latency` is how long an advert takes to reach the other routers.
    pub fn new(latency: Micros) -> SimLan {
        SimLan::with_seed(latency, 0)
    }

    /// A LAN whose faults, once set, are drawn from `seed`.
    pub fn with_seed(latency: Micros, seed: u64) -> SimLan {
        SimLan {
            now: 0,
            latency,
            routers: Vec::new(),
            in_flight: Vec::new(),
            faults: Faults::default(),
            rng: SplitMix64::new(seed),
            lost: 0,
            transitions: Vec::new(),
            groups: Vec::new(),
        }
    }

    pub fn latency(&self) -> Micros {
        self.latency
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Applies to adverts sent from now on; those in flight keep their fate.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// How many routers were added.
    pub fn len(&self) -> usize {
        self.routers.len()
    }

    /// Adverts sent and not yet delivered (or lost).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routers.is_empty()
    }

    fn segment(&self, index: usize) -> u8 {
        self.faults.segments.get(index).copied().unwrap_or(0)
    }

    pub fn now(&self) -> Micros {
        self.now
    }

    /// Adds a router (not started) and returns its index.
    pub fn add_router(&mut self, name: &str, config: InstanceConfig, address: Ipv4Addr) -> usize {
        let instance = Instance::new(&config, address);
        self.routers.push(SimRouter {
            name: name.to_string(),
            config,
            address,
            instance,
            alive: false,
            holds_addresses: false,
            garp_bursts: 0,
            adverts_sent: 0,
            last_heard: None,
            check: None,
            running_check: None,
        });
        self.routers.len() - 1
    }

    /// Makes these routers (instances) one box with a `vrrp_sync_group`
    /// over them; none may be in another group.
    pub fn add_sync_group(&mut self, members: Vec<usize>) {
        for &m in &members {
            self.routers[m].instance.set_in_sync_group(true);
        }
        self.groups.push(members);
    }

    /// The check a router tracks from its next start (None: none).
    pub fn set_check(&mut self, index: usize, check: Option<SimCheck>) {
        self.routers[index].check = check;
        if self.routers[index].check.is_none() && self.routers[index].running_check.is_some() {
            // As if the track were removed: nothing left to wait for.
            self.routers[index].running_check = None;
            let mut actions = Vec::new();
            let instance = &mut self.routers[index].instance;
            instance.set_waiting_for_checks(self.now, false, &mut actions);
            self.apply(index, actions);
            self.hold_group_faults(index);
        }
    }

    fn group_of(&self, index: usize) -> Option<usize> {
        self.groups.iter().position(|g| g.contains(&index))
    }

    /// The router and the other members of its sync group, if any.
    fn same_box(&self, index: usize) -> Vec<usize> {
        match self.group_of(index) {
            Some(g) => self.groups[g].clone(),
            None => vec![index],
        }
    }

    pub fn router(&self, index: usize) -> &SimRouter {
        &self.routers[index]
    }

    /// Starts (or restarts, with a fresh state machine) a router, with the
    /// rest of its sync group. Its check, if any, has not reported yet.
    pub fn start(&mut self, index: usize) {
        let members = self.same_box(index);
        let grouped = members.len() > 1;
        for &m in &members {
            let router = &mut self.routers[m];
            router.instance = Instance::new(&router.config, router.address);
            router.instance.set_in_sync_group(grouped);
            router.alive = true;
            // A starting daemon removes stale addresses first.
            router.holds_addresses = false;
            router.running_check = router.check.as_ref().map(|c| RunningCheck {
                health: Health::new(c.rise, c.fall, false),
                next_result: self.now + c.first_result_after,
            });
        }
        // Tracking of every member first, as the daemon does.
        for &m in &members {
            self.apply_check_verdict(m);
        }
        for &m in &members {
            let mut actions = Vec::new();
            self.routers[m].instance.start(self.now, &mut actions);
            self.apply(m, actions);
        }
    }

    /// Dies without a word: link down, process killed (with the rest of
    /// its sync group).
    pub fn kill(&mut self, index: usize) {
        for m in self.same_box(index) {
            self.routers[m].alive = false;
            self.in_flight.retain(|p| p.from != m);
        }
    }

    /// Graceful stop: priority 0 if master, addresses removed (the whole
    /// sync group).
    pub fn stop(&mut self, index: usize) {
        for m in self.same_box(index) {
            let mut actions = Vec::new();
            self.routers[m].instance.stop(self.now, &mut actions);
            self.apply(m, actions);
            self.routers[m].alive = false;
        }
    }

    /// What tracking would do on a real router: move its effective priority
    /// or hold it in FAULT (a check script failing, a link going down).
    pub fn set_tracking(&mut self, index: usize, priority: u8, fault: bool) {
        let mut actions = Vec::new();
        let instance = &mut self.routers[index].instance;
        instance.set_priority(self.now, priority, &mut actions);
        instance.set_fault(self.now, fault, &mut actions);
        self.apply(index, actions);
        self.hold_group_faults(index);
    }

    /// The daemon's `evaluate_tracking` for a router's check: its verdict
    /// and whether the router still waits for the first result.
    fn apply_check_verdict(&mut self, index: usize) {
        let router = &self.routers[index];
        let (Some(check), Some(running)) = (&router.check, &router.running_check) else {
            return;
        };
        let tracked = [Tracked {
            weight: check.weight,
            up: running.health.reading(),
        }];
        let waiting = awaiting_first_result(tracked);
        let mut actions = Vec::new();
        let instance = &mut self.routers[index].instance;
        match verdict(instance.base_priority(), tracked) {
            Verdict::Fault => instance.set_fault(self.now, true, &mut actions),
            Verdict::Priority(p) => {
                instance.set_priority(self.now, p, &mut actions);
                instance.set_fault(self.now, false, &mut actions);
            }
        }
        instance.set_waiting_for_checks(self.now, waiting, &mut actions);
        self.apply(index, actions);
        self.hold_group_faults(index);
    }

    /// The sync group rules for FAULT and for waiting on a check's first
    /// result, after a member's tracking changed (FAULT first, as the
    /// daemon does).
    fn hold_group_faults(&mut self, index: usize) {
        let Some(g) = self.group_of(index) else {
            return;
        };
        let members = self.groups[g].clone();
        let faults: Vec<bool> = members
            .iter()
            .map(|m| self.routers[*m].instance.holds_group_in_fault())
            .collect();
        let waiting: Vec<bool> = members
            .iter()
            .map(|m| self.routers[*m].instance.waiting_for_checks())
            .collect();
        let group_waits = waits_for_checks(&waiting);
        for (i, &m) in members.iter().enumerate() {
            let mut actions = Vec::new();
            let instance = &mut self.routers[m].instance;
            instance.set_group_fault(self.now, held_in_fault(&faults, i), &mut actions);
            instance.set_group_waiting_for_checks(self.now, group_waits, &mut actions);
            self.apply(m, actions);
        }
    }

    /// The sync group rule for MASTER and BACKUP, after `event` of a member.
    fn follow_sync_group(&mut self, index: usize, event: Event) {
        let Some(g) = self.group_of(index) else {
            return;
        };
        let members = self.groups[g].clone();
        let states: Vec<Member> = members
            .iter()
            .map(|m| Member::of(&self.routers[*m].instance))
            .collect();
        let moved = group_move(&states, event);
        for m in members {
            let mut actions = Vec::new();
            let instance = &mut self.routers[m].instance;
            match moved {
                Move::ToMaster => instance.follow_group_to_master(self.now, &mut actions),
                Move::ToBackup => instance.follow_group_to_backup(self.now, &mut actions),
                Move::Stay => {}
            }
            self.apply(m, actions);
        }
    }

    /// Runs the LAN until `now + duration`.
    pub fn run_for(&mut self, duration: Micros) {
        let never_fails = |_: &SimLan| Ok::<(), String>(());
        let _ = self.run_checked(duration, never_fails);
    }

    /// [`SimLan::run_for`], calling `check` after every instant at which
    /// something happened; stops at the first error, with the clock there.
    pub fn run_checked(
        &mut self,
        duration: Micros,
        mut check: impl FnMut(&SimLan) -> Result<(), String>,
    ) -> Result<(), String> {
        let until = self.now + duration;
        while let Some(at) = self.next_event().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.deliver_due();
            self.report_due_checks();
            self.fire_due_timers();
            check(self)?;
        }
        self.now = until;
        Ok(())
    }

    /// [`SimLan::run_for`] in whole seconds.
    pub fn run_secs(&mut self, seconds: u64) {
        self.run_for(seconds * MICROS_PER_SECOND);
    }

    /// Names of the live routers in MASTER state.
    pub fn masters(&self) -> Vec<&str> {
        self.routers
            .iter()
            .filter(|r| r.alive && r.instance.state() == State::Master)
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Names of the live routers that hold the virtual addresses.
    pub fn holders(&self) -> Vec<&str> {
        self.routers
            .iter()
            .filter(|r| r.alive && r.holds_addresses)
            .map(|r| r.name.as_str())
            .collect()
    }

    fn next_event(&self) -> Option<Micros> {
        let packets = self.in_flight.iter().map(|p| p.deliver_at);
        let timers = self
            .routers
            .iter()
            .filter(|r| r.alive)
            .filter_map(|r| r.instance.poll_timeout());
        let checks = self
            .routers
            .iter()
            .filter(|r| r.alive)
            .filter_map(|r| r.running_check.as_ref().map(|c| c.next_result));
        packets.chain(timers).chain(checks).min()
    }

    /// Check results due now, each applied as the daemon applies one.
    fn report_due_checks(&mut self) {
        for index in 0..self.routers.len() {
            let router = &mut self.routers[index];
            let (true, Some(check), Some(running)) =
                (router.alive, &router.check, &mut router.running_check)
            else {
                continue;
            };
            if running.next_result > self.now {
                continue;
            }
            running.next_result = self.now + check.interval;
            if running.health.record(check.passing) {
                self.apply_check_verdict(index);
            }
        }
    }

    fn deliver_due(&mut self) {
        let now = self.now;
        let (mut due, later): (Vec<_>, Vec<_>) =
            self.in_flight.drain(..).partition(|p| p.deliver_at <= now);
        self.in_flight = later;
        // In arrival order: with jitter, another sender's later advert may
        // arrive first. The sort is stable, so one sender's stay in order.
        due.sort_by_key(|p| p.deliver_at);
        for packet in due {
            let index = packet.to;
            // Dead by now (killed after the advert left): the frame is lost.
            if !self.routers[index].alive {
                continue;
            }
            let source = self.routers[packet.from].address;
            self.routers[index].last_heard = Some(now);
            let mut actions = Vec::new();
            // A refused advert is simply not acted on, as on a real LAN.
            let _ = self.routers[index].instance.handle_advert(
                now,
                source,
                &packet.advert,
                &mut actions,
            );
            self.apply(index, actions);
        }
    }

    /// Puts one copy of `advert` on the wire for every router that can hear
    /// it: alive, same VRID (the daemon hands an advert only to the instance
    /// of its VRID), same segment, and not lost.
    fn send(&mut self, from: usize, advert: Advert) {
        for to in 0..self.routers.len() {
            let receiver = &self.routers[to];
            if to == from || !receiver.alive || receiver.instance.vrid() != advert.vrid {
                continue;
            }
            let partitioned = self.segment(to) != self.segment(from);
            let loss = self.faults.loss_per_mille;
            if partitioned || (loss > 0 && self.rng.chance(loss)) {
                self.lost += 1;
                continue;
            }
            let jitter = match self.faults.jitter {
                0 => 0,
                max => self.rng.range(0, max),
            };
            // A switch port is a FIFO: frames from one sender to one
            // receiver never overtake each other (a priority 0 sent right
            // after an advert must not arrive first), though frames from
            // different senders may cross.
            let queued_behind = self
                .in_flight
                .iter()
                .filter(|p| p.from == from && p.to == to)
                .map(|p| p.deliver_at)
                .max()
                .unwrap_or(0);
            self.in_flight.push(InFlight {
                deliver_at: (self.now + self.latency + jitter).max(queued_behind),
                from,
                to,
                advert: advert.clone(),
            });
        }
    }

    fn fire_due_timers(&mut self) {
        for index in 0..self.routers.len() {
            let router = &mut self.routers[index];
            if !router.alive || router.instance.poll_timeout().is_none_or(|t| t > self.now) {
                continue;
            }
            let mut actions = Vec::new();
            router.instance.handle_timeout(self.now, &mut actions);
            self.apply(index, actions);
        }
    }

    fn apply(&mut self, index: usize, actions: Vec<Action>) {
        for action in actions {
            let router = &mut self.routers[index];
            match action {
                Action::SendAdvert(advert) => {
                    router.adverts_sent += 1;
                    self.send(index, advert);
                }
                Action::AddVirtualAddresses => router.holds_addresses = true,
                Action::RemoveVirtualAddresses => router.holds_addresses = false,
                Action::SendGratuitousArp
                | Action::SendRefreshGarp
                | Action::SendLowerPriorityGarp => router.garp_bursts += 1,
                // Other interfaces than the simulated LAN's.
                Action::SendExtraInterfaceGarp => {}
                Action::LowerPriorityHeard { .. } => {}
                Action::StateChanged { from, to } => {
                    self.transitions.push(Transition {
                        at: self.now,
                        index,
                        router: router.name.clone(),
                        from,
                        to,
                    });
                    self.follow_sync_group(index, Event::Changed { from, to });
                }
                Action::MasterDownExpired => {
                    self.follow_sync_group(index, Event::MasterDownExpired)
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "simulation_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "simulation_properties.rs"]
mod properties;
