//! One VRRP instance's state machine (RFC 3768 section 6.4, with the
//! conventions of keepalived that its users rely on).
//!
//! It is driven, never driving: the daemon (or a test, or a simulated LAN)
//! hands it an event with the current time and gets back the actions to
//! take, and asks [`Instance::poll_timeout`] when to call again. It reads no
//! clock and touches no socket, so every rule below is a unit test.

use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;

use super::advert::{Advert, AuthType, Version};
use super::discard::Discard;
use super::timers::{Micros, Timers, MICROS_PER_SECOND};
use crate::config::{Authentication, InstanceConfig, InstanceOptions, VrrpVersion};

/// The priority of the router that owns the virtual addresses: master at
/// once, never preempted.
pub const PRIORITY_OWNER: u8 = 255;
/// The priority a master sends on its way out, so backups take over after
/// skew instead of master_down.
pub const PRIORITY_STOPPING: u8 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Configured, not started.
    Initialize,
    Backup,
    Master,
    /// A tracked script or interface is down: no adverts, no addresses.
    Fault,
    /// Stopped for good (daemon shutdown or instance removed).
    Stopped,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // keepalived's words, which users grep their logs for.
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stopped => "STOP",
        })
    }
}

/// What the daemon must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this advert to the group, or to every unicast peer.
    SendAdvert(Advert),
    AddVirtualAddresses,
    RemoveVirtualAddresses,
    /// One burst (garp_master_repeat packets) for every virtual address.
    SendGratuitousArp,
    /// A master heard a lower-priority master (for the log line); the
    /// advert and the announcements that answer it follow.
    LowerPriorityHeard {
        source: IpAddr,
        priority: u8,
    },
    /// A `garp_master_refresh` burst: garp_master_refresh_repeat packets
    /// for every virtual address.
    SendRefreshGarp,
    /// One burst of garp_lower_prio_repeat packets for every virtual
    /// address: hosts that followed the lower master come back to us.
    SendLowerPriorityGarp,
    /// `garp_extra_if all`: one packet for every virtual address on an
    /// interface other than the instance's own.
    SendExtraInterfaceGarp,
    /// For the log line and notify scripts.
    StateChanged {
        from: State,
        to: State,
    },
    /// master_down fired on a sync group member: it stays BACKUP (timer
    /// re-armed) until its whole group may go (see `vrrp::sync_group`).
    MasterDownExpired,
}

/// What an accepted advert told us beyond the election itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accepted {
    /// Its address list is not ours. Logged and accepted, as keepalived
    /// 2.3.3 and RFC 9568 do: dropping it would make two masters.
    pub address_list_differs: bool,
    /// VRRPv3: its interval is not ours. Accepted (a backup learns it);
    /// the daemon logs it, rate-limited.
    pub interval_differs: bool,
}

/// What a hitless restart carries from one image of the daemon to the
/// next (see `vrrp::restart_state`): enough to go on without a word on the
/// wire. Times are on the clock of whoever holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub state: State,
    /// The effective priority (tracking included).
    pub priority: u8,
    /// What a backup learned from its master's adverts.
    pub master_interval_cs: u16,
    pub advert: Option<Micros>,
    pub master_down: Option<Micros>,
    pub garp_repeat: Option<Micros>,
    pub garp_refresh: Option<Micros>,
    /// A backup obeying a lower-priority master while preempt_delay runs:
    /// when the delay is over.
    pub preempt_allowed_at: Option<Micros>,
}

impl Snapshot {
    /// The same snapshot on another clock: `to` maps each time.
    pub fn retimed(self, to: impl Fn(Micros) -> Micros) -> Snapshot {
        Snapshot {
            advert: self.advert.map(&to),
            master_down: self.master_down.map(&to),
            garp_repeat: self.garp_repeat.map(&to),
            garp_refresh: self.garp_refresh.map(&to),
            preempt_allowed_at: self.preempt_allowed_at.map(&to),
            ..self
        }
    }
}

/// The timers in force; `None` means not armed.
#[derive(Debug, Clone, Copy, Default)]
struct Deadlines {
    advert: Option<Micros>,
    master_down: Option<Micros>,
    /// The second gratuitous ARP burst after becoming master.
    garp_repeat: Option<Micros>,
    /// The next periodic burst (`garp_master_refresh`).
    garp_refresh: Option<Micros>,
    /// The second burst after hearing a lower-priority master.
    lower_prio_garp_repeat: Option<Micros>,
    /// The next `garp_extra_if` round.
    garp_extra_if: Option<Micros>,
}

#[derive(Debug, Clone)]
pub struct Instance {
    name: String,
    vrid: u8,
    /// The configured priority; tracking moves `priority` around it.
    base_priority: u8,
    /// The priority in force: what adverts carry and elections compare.
    priority: u8,
    version: VrrpVersion,
    /// Our own advertisement interval: what we send as master.
    interval_cs: u16,
    /// Master_Adver_Interval (RFC 5798 section 6.1): the interval of the
    /// master we listen to, learned from its adverts; a backup's skew and
    /// master_down follow it. VRRPv2 drops other intervals, so there it is
    /// always ours.
    master_interval_cs: u16,
    preempt: bool,
    preempt_delay: Micros,
    /// The source of our adverts, compared on equal priority.
    address: IpAddr,
    /// What our adverts carry and a master's list is compared with: the
    /// advertised addresses only. Excluded ones are added and removed
    /// with these (the AddVirtualAddresses action covers every owned
    /// address) but never appear on the wire.
    virtual_addresses: Rc<[IpAddr]>,
    /// When not empty, only adverts from these sources are accepted.
    unicast_peers: Vec<IpAddr>,
    authentication: Option<Authentication>,
    garp_master_delay: Micros,
    garp_master_refresh: Micros,
    /// `garp_extra_if all`'s period (0: none).
    garp_extra_if: Micros,
    /// Packets per burst when a lower-priority master is heard (0: none).
    garp_lower_prio_repeat: u32,
    garp_lower_prio_delay: Micros,
    /// lower_prio_no_advert, higher_prio_send_advert, ...
    options: InstanceOptions,

    state: State,
    /// Held in FAULT by its own tracking (scripts, interfaces).
    tracking_fault: bool,
    /// Held in FAULT because another member of its sync group is.
    group_fault: bool,
    /// A check that decides whether it may serve (weight 0) has not
    /// reported yet: it stays in INIT, silent, until it has.
    waiting_for_checks: bool,
    /// Another member of its sync group waits for its checks' first
    /// results: the group waits in INIT together.
    group_waiting_for_checks: bool,
    /// `start` was called while waiting for checks (its own or its
    /// group's): it starts when they have reported.
    start_pending: bool,
    /// In a `vrrp_sync_group`: master_down does not make it master on its
    /// own; the group decides.
    in_sync_group: bool,
    /// In a sync group: its master_down fired and no master was heard
    /// since.
    master_down_expired: bool,
    deadlines: Deadlines,
    /// While a lower-priority master has been seen for less than
    /// preempt_delay, it is still obeyed; this is when that ends.
    preempt_allowed_at: Option<Micros>,
    /// Adverts sent more than half an interval after they were due.
    late_adverts: u64,
}

impl Instance {
    /// `address` is the source of our adverts: `mcast_src_ip` or the
    /// interface's primary address (IPv6: its link-local address), which the
    /// daemon looks up.
    pub fn new(config: &InstanceConfig, address: impl Into<IpAddr>) -> Instance {
        Instance {
            name: config.name.clone(),
            vrid: config.vrid,
            base_priority: config.priority,
            priority: config.priority,
            version: config.version,
            interval_cs: config.advert_int_cs,
            master_interval_cs: config.advert_int_cs,
            preempt: config.preempt,
            preempt_delay: Micros::from(config.preempt_delay_s) * MICROS_PER_SECOND,
            address: address.into(),
            virtual_addresses: config.advertised_addresses().map(|v| v.addr).collect(),
            unicast_peers: config.unicast_peers.clone(),
            authentication: config.authentication,
            garp_master_delay: Micros::from(config.garp_master_delay_s) * MICROS_PER_SECOND,
            garp_master_refresh: Micros::from(config.garp_master_refresh_s) * MICROS_PER_SECOND,
            garp_extra_if: extra_if_period(config),
            garp_lower_prio_repeat: config.garp_lower_prio_repeat,
            garp_lower_prio_delay: Micros::from(config.garp_lower_prio_delay_s) * MICROS_PER_SECOND,
            options: config.options,
            state: State::Initialize,
            tracking_fault: false,
            group_fault: false,
            waiting_for_checks: false,
            group_waiting_for_checks: false,
            start_pending: false,
            in_sync_group: false,
            master_down_expired: false,
            deadlines: Deadlines::default(),
            preempt_allowed_at: None,
            late_adverts: 0,
        }
    }

    /// Takes a reloaded config of the same virtual router (same name,
    /// interface and VRID) without leaving its state: no flap on the wire.
    /// The effective priority is left to tracking, which runs right after
    /// with the new base priority and announces a change at once.
    pub fn reconfigure(&mut self, config: &InstanceConfig) {
        self.base_priority = config.priority;
        self.interval_cs = config.advert_int_cs;
        self.preempt = config.preempt;
        self.preempt_delay = Micros::from(config.preempt_delay_s) * MICROS_PER_SECOND;
        self.virtual_addresses = config.advertised_addresses().map(|v| v.addr).collect();
        self.authentication = config.authentication;
        self.garp_master_delay = Micros::from(config.garp_master_delay_s) * MICROS_PER_SECOND;
        self.garp_master_refresh = Micros::from(config.garp_master_refresh_s) * MICROS_PER_SECOND;
        self.garp_extra_if = extra_if_period(config);
        self.garp_lower_prio_repeat = config.garp_lower_prio_repeat;
        self.garp_lower_prio_delay =
            Micros::from(config.garp_lower_prio_delay_s) * MICROS_PER_SECOND;
        self.unicast_peers = config.unicast_peers.clone();
        self.options = config.options;
        if self.state != State::Master {
            self.deadlines.garp_refresh = None;
        }
        // Turned off: no more rounds (on: see `reloaded`).
        if self.garp_extra_if == 0 {
            self.deadlines.garp_extra_if = None;
        }
        // A v2 backup compares every advert with its own interval; a v3
        // one keeps what it learned from the master until the next advert.
        if self.version == VrrpVersion::V2 || self.state != State::Backup {
            self.master_interval_cs = self.interval_cs;
        }
    }

    /// The daemon reloaded its config (changed or not). As keepalived
    /// 2.2.7 does on SIGHUP, a master with `garp_extra_if` on sends one
    /// round at once and counts its period from there (watched: the packet
    /// within 30 ms of the signal, also when the reload turned it on or
    /// left it unchanged).
    pub fn reloaded(&mut self, now: Micros) {
        if self.state == State::Master && self.garp_extra_if > 0 {
            self.deadlines.garp_extra_if = Some(now);
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn vrid(&self) -> u8 {
        self.vrid
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn priority(&self) -> u8 {
        self.priority
    }

    pub fn base_priority(&self) -> u8 {
        self.base_priority
    }

    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// Whether it talks to listed peers rather than to the group.
    pub fn has_unicast_peers(&self) -> bool {
        !self.unicast_peers.is_empty()
    }

    /// Our advert source changed (the interface was re-created with another
    /// primary address): the tie-break and the own-advert check use it.
    pub fn set_address(&mut self, address: IpAddr) {
        self.address = address;
    }

    /// The master's advertisement interval as a backup knows it.
    pub fn master_interval_cs(&self) -> u16 {
        self.master_interval_cs
    }

    /// The timers in force, recomputed from the priority and the intervals
    /// whenever asked, so a change of either is never half applied: adverts
    /// at our own interval, skew and master_down from the master's.
    pub fn timers(&self) -> Timers {
        let listening = Timers::new(self.version, self.priority, self.master_interval_cs);
        Timers {
            advert_interval: Timers::new(self.version, self.priority, self.interval_cs)
                .advert_interval,
            ..listening
        }
    }

    /// Adverts that left more than half an interval after they were due,
    /// since this instance was created: a master on a starved machine,
    /// before its backups give up on it.
    pub fn late_adverts(&self) -> u64 {
        self.late_adverts
    }

    /// The earliest time at which [`Instance::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Micros> {
        let d = self.deadlines;
        [
            d.advert,
            d.master_down,
            d.garp_repeat,
            d.garp_refresh,
            d.lower_prio_garp_repeat,
            d.garp_extra_if,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Starts the election. The owner (priority 255) is master at once;
    /// everyone else, whatever `state` says, listens for master_down first.
    /// An instance still waiting for its checks' first results starts when
    /// they are in (see [`Instance::set_waiting_for_checks`]).
    pub fn start(&mut self, now: Micros, out: &mut Vec<Action>) {
        if self.state != State::Initialize {
            return;
        }
        // Asked already: it starts when its checks (or its group's) let it.
        if self.start_pending {
            return;
        }
        if self.waiting_for_checks || self.group_waiting_for_checks {
            self.start_pending = true;
            return;
        }
        self.begin(now, out);
    }

    /// Leaves INIT: FAULT, master (the owner) or backup.
    fn begin(&mut self, now: Micros, out: &mut Vec<Action>) {
        if self.is_faulty() {
            self.enter(State::Fault, out);
        } else if self.priority == PRIORITY_OWNER {
            self.become_master(now, out);
        } else {
            self.become_backup(now, out);
        }
    }

    /// What a restart saves of it.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            priority: self.priority,
            master_interval_cs: self.master_interval_cs,
            advert: self.deadlines.advert,
            master_down: self.deadlines.master_down,
            garp_repeat: self.deadlines.garp_repeat,
            garp_refresh: self.deadlines.garp_refresh,
            preempt_allowed_at: self.preempt_allowed_at,
        }
    }

    /// Instead of [`Instance::start`], after a hitless restart: takes up
    /// the state the previous image had, with its timers, and says nothing:
    /// no state change (so no notify), no addresses added, no advert before
    /// the one that was due. A sync group member is marked as one first
    /// ([`Instance::set_in_sync_group`]). Only an instance still in INIT
    /// resumes, and only into BACKUP, MASTER or FAULT; false when it did
    /// not.
    pub fn resume(&mut self, now: Micros, saved: &Snapshot) -> bool {
        if self.state != State::Initialize {
            return false;
        }
        self.deadlines = Deadlines::default();
        match saved.state {
            State::Master => {
                // A master always has its next advert due.
                self.deadlines.advert = Some(saved.advert.unwrap_or(now));
                self.deadlines.garp_repeat = saved.garp_repeat;
                self.deadlines.garp_refresh = saved.garp_refresh;
            }
            State::Backup => {
                self.deadlines.master_down = Some(saved.master_down.unwrap_or(now));
                // A restart does not start the window again.
                self.preempt_allowed_at = saved.preempt_allowed_at;
            }
            // Held by its own tracking or by its sync group's: which of
            // them is not known until the new image has evaluated both,
            // so both hold it until then, and it leaves FAULT only when
            // neither does (no trip through BACKUP and back). Set its
            // membership first: outside a group, no group holds it.
            State::Fault => {
                self.tracking_fault = true;
                self.group_fault = self.in_sync_group;
            }
            State::Initialize | State::Stopped => return false,
        }
        self.state = saved.state;
        self.priority = saved.priority;
        self.master_interval_cs = saved.master_interval_cs;
        self.waiting_for_checks = false;
        self.start_pending = false;
        true
    }

    /// Stops for good. A master sends priority 0 so that a backup takes over
    /// after skew time, and gives up its addresses.
    pub fn stop(&mut self, _now: Micros, out: &mut Vec<Action>) {
        if self.state == State::Master {
            out.push(Action::SendAdvert(self.advert(PRIORITY_STOPPING)));
            out.push(Action::RemoveVirtualAddresses);
        }
        self.enter(State::Stopped, out);
        self.deadlines = Deadlines::default();
    }

    /// Runs whatever timers are due at `now`.
    pub fn handle_timeout(&mut self, now: Micros, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => {
                if self.deadlines.master_down.is_some_and(|t| t <= now) {
                    if self.in_sync_group {
                        // keepalived 2.2.7 waits as BACKUP and times out
                        // again every master_down until its group may go.
                        self.master_down_expired = true;
                        self.deadlines.master_down = Some(now + self.timers().master_down);
                        out.push(Action::MasterDownExpired);
                    } else {
                        self.become_master(now, out);
                    }
                }
            }
            State::Master => {
                if let Some(due) = self.deadlines.advert.filter(|t| *t <= now) {
                    out.push(Action::SendAdvert(self.advert(self.priority)));
                    let interval = self.timers().advert_interval;
                    if now - due > interval / 2 {
                        self.late_adverts += 1;
                    }
                    // Keep the cadence, unless we fell a whole interval behind
                    // (a stalled machine): then restart it from now.
                    let next = due + interval;
                    self.deadlines.advert = Some(if next > now { next } else { now + interval });
                }
                let repeat_due = self.deadlines.garp_repeat.is_some_and(|t| t <= now);
                let refresh_due = self.deadlines.garp_refresh.is_some_and(|t| t <= now);
                if repeat_due {
                    self.deadlines.garp_repeat = None;
                }
                if refresh_due {
                    self.deadlines.garp_refresh = Some(now + self.garp_master_refresh);
                }
                if repeat_due {
                    out.push(Action::SendGratuitousArp);
                } else if refresh_due {
                    out.push(Action::SendRefreshGarp);
                }
                if self
                    .deadlines
                    .lower_prio_garp_repeat
                    .is_some_and(|t| t <= now)
                {
                    self.deadlines.lower_prio_garp_repeat = None;
                    out.push(Action::SendLowerPriorityGarp);
                }
                // Its own period, beside the refresh (keepalived sends both).
                if self.deadlines.garp_extra_if.is_some_and(|t| t <= now) {
                    self.deadlines.garp_extra_if = Some(now + self.garp_extra_if);
                    out.push(Action::SendExtraInterfaceGarp);
                }
            }
            State::Initialize | State::Fault | State::Stopped => {}
        }
    }

    /// Tracking (scripts, interfaces) moved the effective priority. A
    /// master says so at once, so that a better backup can preempt without
    /// waiting for the next advert; the owner's 255 is never moved.
    pub fn set_priority(&mut self, now: Micros, priority: u8, out: &mut Vec<Action>) {
        let priority = if self.base_priority == PRIORITY_OWNER {
            PRIORITY_OWNER
        } else {
            priority.clamp(1, PRIORITY_OWNER - 1)
        };
        if priority == self.priority {
            return;
        }
        self.priority = priority;
        if self.state == State::Master {
            self.send_advert_now(now, out);
        }
    }

    /// Tracking says the instance cannot serve (`true`) or can again
    /// (`false`). Entering FAULT gives up mastership the way a stop does;
    /// leaving it starts a fresh election as backup, the owner's too.
    pub fn set_fault(&mut self, now: Micros, faulty: bool, out: &mut Vec<Action>) {
        let before = self.is_faulty();
        self.tracking_fault = faulty;
        self.fault_changed(now, before, out);
    }

    /// Another member of the sync group is (or no longer is) in FAULT: the
    /// group goes to FAULT together.
    pub fn set_group_fault(&mut self, now: Micros, held: bool, out: &mut Vec<Action>) {
        let before = self.is_faulty();
        self.group_fault = held;
        self.fault_changed(now, before, out);
    }

    /// Whether a check that decides if it may serve (weight 0) has yet to
    /// report. keepalived 2.2.7 keeps such an instance in INIT: no adverts,
    /// no state, no notify; the first result then sends it to BACKUP or
    /// FAULT. Without this a router whose check fails from the start would
    /// take the VIP for as long as its first result takes. Set it after
    /// the priority and FAULT of the same verdict, so that a pending start
    /// sees them.
    pub fn set_waiting_for_checks(&mut self, now: Micros, waiting: bool, out: &mut Vec<Action>) {
        self.waiting_for_checks = waiting;
        self.start_if_released(now, out);
    }

    /// Whether another member of its sync group waits for its checks'
    /// first results (`vrrp::sync_group::waits_for_checks`): the group
    /// starts together. Set it after [`Instance::set_group_fault`] of the
    /// same round, so that a released start sees the group's FAULT.
    pub fn set_group_waiting_for_checks(
        &mut self,
        now: Micros,
        waiting: bool,
        out: &mut Vec<Action>,
    ) {
        self.group_waiting_for_checks = waiting;
        self.start_if_released(now, out);
    }

    /// A start held back by checks goes ahead once nothing holds it. One
    /// released into its group's FAULT (another member's first result
    /// failed) stays in INIT, silent, until the group leaves FAULT: as
    /// keepalived 2.2.7 does, which syncs it to FAULT without a state
    /// change or notify of its own, and then sends it to BACKUP with the
    /// others.
    fn start_if_released(&mut self, now: Micros, out: &mut Vec<Action>) {
        if !self.start_pending || self.waiting_for_checks || self.group_waiting_for_checks {
            return;
        }
        if self.group_fault && !self.tracking_fault {
            return;
        }
        self.start_pending = false;
        self.begin(now, out);
    }

    /// Whether its own tracking holds the rest of its sync group in FAULT:
    /// not while it waits in INIT for its checks' first results (the group
    /// waits with it, as it cannot go to MASTER without it).
    pub fn holds_group_in_fault(&self) -> bool {
        self.tracking_fault && !self.waiting_for_checks
    }

    /// Whether it waits for its weight-0 checks' first results.
    pub fn waiting_for_checks(&self) -> bool {
        self.waiting_for_checks
    }

    /// Whether its own tracking (not its group) holds it in FAULT.
    pub fn tracking_fault(&self) -> bool {
        self.tracking_fault
    }

    fn is_faulty(&self) -> bool {
        self.tracking_fault || self.group_fault
    }

    fn fault_changed(&mut self, now: Micros, before: bool, out: &mut Vec<Action>) {
        let faulty = self.is_faulty();
        if faulty == before {
            return;
        }
        match (faulty, self.state) {
            (false, State::Initialize) => self.start_if_released(now, out),
            (_, State::Initialize | State::Stopped) => {}
            (true, State::Master) => {
                out.push(Action::SendAdvert(self.advert(PRIORITY_STOPPING)));
                self.enter(State::Fault, out);
                out.push(Action::RemoveVirtualAddresses);
                self.deadlines = Deadlines::default();
            }
            (true, _) => {
                self.enter(State::Fault, out);
                self.deadlines = Deadlines::default();
            }
            // The owner too (as keepalived 2.2.7): only Initialize makes
            // it master at once; out of FAULT it waits out master_down,
            // discarding the lower-priority adverts of whoever took over.
            (false, State::Fault) => self.become_backup(now, out),
            (false, _) => {}
        }
    }

    /// Whether it is a member of a `vrrp_sync_group` (the daemon and the
    /// simulation say so).
    pub fn set_in_sync_group(&mut self, member: bool) {
        self.in_sync_group = member;
        self.master_down_expired &= member;
    }

    /// In a sync group: master_down fired and no master was heard since.
    pub fn master_down_expired(&self) -> bool {
        self.master_down_expired
    }

    /// Its sync group may go to MASTER (`vrrp::sync_group`): so does this
    /// backup, so that the group's addresses stay on one router.
    pub fn follow_group_to_master(&mut self, now: Micros, out: &mut Vec<Action>) {
        if self.state == State::Backup {
            self.become_master(now, out);
        }
    }

    /// A sync group member gave up mastership: so does this master.
    pub fn follow_group_to_backup(&mut self, now: Micros, out: &mut Vec<Action>) {
        if self.state == State::Master {
            self.become_backup(now, out);
        }
    }

    /// Handles an advert for our VRID from `source`. An advert we refuse
    /// changes nothing and says why, for the counters.
    pub fn handle_advert(
        &mut self,
        now: Micros,
        source: impl Into<IpAddr>,
        advert: &Advert,
        out: &mut Vec<Action>,
    ) -> Result<Accepted, Discard> {
        let source = source.into();
        let accepted = self.check_advert(source, advert)?;
        match self.state {
            State::Backup => self.backup_receives(now, advert),
            State::Master => self.master_receives(now, source, advert, out),
            State::Initialize | State::Fault | State::Stopped => {}
        }
        Ok(accepted)
    }

    /// The checks that depend on our configuration (RFC 3768 section 7.1,
    /// RFC 5798 section 7.1).
    fn check_advert(&self, source: IpAddr, advert: &Advert) -> Result<Accepted, Discard> {
        if source == self.address {
            return Err(Discard::OwnAdvert);
        }
        if !self.unicast_peers.is_empty() && !self.unicast_peers.contains(&source) {
            return Err(Discard::UnknownPeer);
        }
        let interval_differs = advert.interval_cs != self.interval_cs;
        match (self.version, advert.version) {
            (
                VrrpVersion::V2,
                Version::V2 {
                    auth_type,
                    auth_data,
                },
            ) => {
                match (&self.authentication, auth_type) {
                    (None, AuthType::None) => {}
                    (Some(Authentication::Password(password)), AuthType::Password) => {
                        if !constant_time_eq(password, &auth_data) {
                            return Err(Discard::BadPassword);
                        }
                    }
                    // The shell checked the IP Authentication Header (ICV
                    // and sequence number) before handing the advert over;
                    // keepalived ignores the auth data, which it sends as
                    // zeros.
                    (Some(Authentication::Ah(_)), AuthType::Ah) => {}
                    _ => return Err(Discard::AuthTypeMismatch),
                }
                // RFC 3768 section 7.1: every router of a VRID runs one
                // interval, and a v2 advert that differs is dropped.
                if interval_differs {
                    return Err(Discard::IntervalMismatch);
                }
            }
            // RFC 5798 has the backup follow the master's interval instead.
            (VrrpVersion::V3, Version::V3) => {}
            _ => return Err(Discard::BadVersion),
        }
        Ok(Accepted {
            address_list_differs: !same_addresses(&self.virtual_addresses, &advert.addresses),
            interval_differs,
        })
    }

    fn backup_receives(&mut self, now: Micros, advert: &Advert) {
        let priority = advert.priority;
        if priority == PRIORITY_STOPPING {
            // The master is leaving: the best backup goes first.
            self.deadlines.master_down = Some(now + self.timers().skew);
            return;
        }
        if !self.preempt || priority >= self.priority {
            // RFC 5798 section 6.4.2: this is our master; follow its
            // interval, then restart master_down with it.
            self.master_interval_cs = advert.interval_cs;
            self.preempt_allowed_at = None;
            self.master_down_expired = false;
            self.deadlines.master_down = Some(now + self.timers().master_down);
            return;
        }
        let timers = self.timers();
        // A lower-priority master and we preempt: ignore it, so master_down
        // fires and we take over; but with preempt_delay, obey it a while
        // longer first.
        if self.preempt_delay > 0 {
            let allowed_at = *self
                .preempt_allowed_at
                .get_or_insert(now + self.preempt_delay);
            if now < allowed_at {
                self.deadlines.master_down = Some(now + timers.master_down);
            }
        }
    }

    fn master_receives(
        &mut self,
        now: Micros,
        source: IpAddr,
        advert: &Advert,
        out: &mut Vec<Action>,
    ) {
        let priority = advert.priority;
        if priority == PRIORITY_STOPPING {
            // Someone else thought it was master and is leaving: make sure
            // backups hear that we are here before their skew runs out.
            self.send_advert_now(now, out);
            return;
        }
        // Both addresses are of the instance's family, where IpAddr's order
        // is the numeric order RFC 5798 compares.
        let they_win =
            priority > self.priority || (priority == self.priority && source > self.address);
        if they_win {
            // keepalived's higher_prio_send_advert: one last advert at our
            // priority, so a master that cannot hear us learns of us.
            if self.options.higher_prio_send_advert {
                out.push(Action::SendAdvert(self.advert(self.priority)));
            }
            self.become_backup(now, out);
            // RFC 5798 section 6.4.3: and follow the new master's interval.
            self.master_interval_cs = advert.interval_cs;
            self.deadlines.master_down = Some(now + self.timers().master_down);
        } else {
            // A lower router thinks it is master (say, a partition healed):
            // tell it at once, as keepalived does, rather
            // than leave two masters for a second; and announce our
            // addresses, so hosts that followed it come back (keepalived's
            // garp_lower_prio_repeat, again after garp_lower_prio_delay).
            out.push(Action::LowerPriorityHeard { source, priority });
            // lower_prio_no_advert: as RFC 5798 has it, no answer.
            if !self.options.lower_prio_no_advert {
                self.send_advert_now(now, out);
            }
            if self.garp_lower_prio_repeat > 0 {
                out.push(Action::SendLowerPriorityGarp);
                if self.garp_lower_prio_delay > 0 {
                    // A lower master that keeps talking gets a burst per
                    // advert, but does not push the second one back.
                    self.deadlines
                        .lower_prio_garp_repeat
                        .get_or_insert(now + self.garp_lower_prio_delay);
                }
            }
        }
    }

    fn send_advert_now(&mut self, now: Micros, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert(self.advert(self.priority)));
        self.deadlines.advert = Some(now + self.timers().advert_interval);
    }

    fn become_master(&mut self, now: Micros, out: &mut Vec<Action>) {
        // keepalived's order, and its log's: the state, the addresses,
        // then the advert and the announcements. Announcing first points
        // hosts at us before the address is there, and the kernel refuses
        // an unsolicited neighbour advertisement from an IPv6 address we
        // do not hold yet: the first burst would be lost.
        self.enter(State::Master, out);
        out.push(Action::AddVirtualAddresses);
        out.push(Action::SendAdvert(self.advert(self.priority)));
        out.push(Action::SendGratuitousArp);
        self.deadlines = Deadlines {
            advert: Some(now + self.timers().advert_interval),
            master_down: None,
            garp_repeat: (self.garp_master_delay > 0).then(|| now + self.garp_master_delay),
            garp_refresh: (self.garp_master_refresh > 0).then(|| now + self.garp_master_refresh),
            lower_prio_garp_repeat: None,
            garp_extra_if: (self.garp_extra_if > 0).then(|| now + self.garp_extra_if),
        };
    }

    fn become_backup(&mut self, now: Micros, out: &mut Vec<Action>) {
        let was_master = self.state == State::Master;
        // Until a master is heard, assume it runs our interval.
        self.master_interval_cs = self.interval_cs;
        self.enter(State::Backup, out);
        if was_master {
            out.push(Action::RemoveVirtualAddresses);
        }
        self.deadlines = Deadlines {
            master_down: Some(now + self.timers().master_down),
            ..Deadlines::default()
        };
    }

    fn enter(&mut self, to: State, out: &mut Vec<Action>) {
        let from = self.state;
        self.state = to;
        self.preempt_allowed_at = None;
        self.master_down_expired = false;
        out.push(Action::StateChanged { from, to });
    }

    /// The advert this instance sends with `priority`.
    pub fn advert(&self, priority: u8) -> Advert {
        let version = match self.version {
            VrrpVersion::V2 => {
                let (auth_type, auth_data) = match self.authentication {
                    Some(Authentication::Password(password)) => (AuthType::Password, password),
                    Some(Authentication::Ah(_)) => (AuthType::Ah, [0; 8]),
                    None => (AuthType::None, [0; 8]),
                };
                Version::V2 {
                    auth_type,
                    auth_data,
                }
            }
            VrrpVersion::V3 => Version::V3,
        };
        Advert {
            version,
            vrid: self.vrid,
            priority,
            interval_cs: self.interval_cs,
            addresses: self.virtual_addresses.clone(),
        }
    }
}

/// The same addresses, in any order. Peers almost always list them in the
/// same order, which is checked without allocating; only a different order
/// pays for sorting copies.
fn same_addresses(ours: &[IpAddr], theirs: &[IpAddr]) -> bool {
    if ours == theirs {
        return true;
    }
    let (mut ours, mut theirs) = (ours.to_vec(), theirs.to_vec());
    ours.sort_unstable();
    theirs.sort_unstable();
    ours == theirs
}

/// Compares without an early exit, so the time taken does not tell an
/// attacker how much of a guessed password was right.
fn constant_time_eq(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "instance_tests.rs"]
mod tests;

/// `garp_extra_if`'s period in microseconds, 0 when nothing is sent.
fn extra_if_period(config: &InstanceConfig) -> Micros {
    let address_vmacs = !config.address_vmacs.is_empty();
    Micros::from(config.options.garp_extra_if.sent_every_s(address_vmacs)) * MICROS_PER_SECOND
}
