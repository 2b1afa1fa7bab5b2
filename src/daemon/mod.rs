//! The one event loop: a mio `Poll` over the VRRP sockets, the link-event
//! netlink socket and the signal fd (SIGCHLD included, for script children);
//! timers from the instances', scripts' and notify queues' own deadlines;
//! and the actions the core asks for carried out through `sys`.
//!
//! Nothing in here decides anything about VRRP; it moves events into the
//! state machines and their actions out to the kernel.

mod actions;
mod advert_queue;
mod announcers;
mod dump;
mod interfaces;
mod link;
mod links;
mod notify;
mod notify_fifos;
mod paced_announcements;
mod packets;
mod reload;
mod restart;
mod routes;
mod scheduling;
mod scripts;
mod startup;
pub mod stats;
pub mod status_report;
pub mod status_socket;
mod sync_group;
mod track_files;
mod track_processes;
mod tracking;
mod vmac;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use log::{info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};
use nix::sys::signal::Signal;

use crate::config::{Command, Config, InstanceConfig, SyncGroupConfig};
use crate::sys::clock::MonotonicClock;
use crate::sys::link_monitor::LinkMonitor;
use crate::sys::rtnetlink::RtNetlink;
use crate::sys::signals::Signals;
use crate::sys::timer::DeadlineTimer;
use crate::tracking::notify_queue::NotifyQueue;
use crate::vrrp::instance::{Action, Instance};
use advert_queue::AdvertQueue;
use announcers::Announcers;
use interfaces::NOT_CREATED;
use links::{LinkId, Links};
use scripts::ScriptRuntime;
use stats::{Counters, LogLimiter};
use status_socket::StatusSocket;

pub use interfaces::{interfaces_exist, missing_interfaces};
pub use restart::{Reexec, STATE_FILE_ENV, STATE_FILE_NAME, TOKEN_ENV};
pub use scripts::{start_command, unrunnable_commands};

const SIGNALS: Token = Token(usize::MAX);
const LINK_EVENTS: Token = Token(usize::MAX - 1);
const STATUS_LISTENER: Token = Token(usize::MAX - 2);
const DEADLINE: Token = Token(usize::MAX - 3);

/// Settings of the daemon that are not in keepalived.conf.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The file the config came from: SIGHUP reads it again.
    pub config_path: PathBuf,
    /// Where `keepvip status` finds us; None: no status socket.
    pub status_socket: Option<PathBuf>,
    /// `-i`: the config id SIGHUP reads conditional lines with; None:
    /// the host's (`config::default_config_id`).
    pub config_id: Option<String>,
    /// How to execute ourselves again for `keepvip restart`.
    pub reexec: Reexec,
    /// The state file a restart handed us (`STATE_FILE_ENV`); None: a
    /// normal start.
    pub resume_from: Option<PathBuf>,
}
/// Packets read from one socket before timers get their turn: a flood must
/// not delay our own adverts.
const READ_BATCH: usize = 64;
/// Large enough for any legal VRRP packet with its IP header: a longer
/// datagram is counted as oversized and dropped.
const RECV_BUFFER: usize = crate::vrrp::discard::MAX_RAW_PACKET_LEN;

struct RunningInstance {
    config: InstanceConfig,
    machine: Instance,
    /// Its link, the same one for as long as the instance runs on it.
    link: Option<LinkId>,
    /// The interface index each virtual address goes on (its `dev`, or the
    /// instance's interface); `NOT_CREATED` while its `dev` does not exist
    /// yet (`dynamic_interfaces`).
    address_ifindex: Vec<u32>,
    /// Its notify commands, run one at a time in transition order.
    notify: NotifyQueue<Command>,
    /// Index into `Daemon::groups`, if it is in a sync group.
    group: Option<usize>,
    /// `auth_type AH`: the sequence number shared with the peers and the
    /// IP identification of our datagrams.
    ah: crate::vrrp::ah::AhCounters,
    /// A reload dropped it: it stops as keepalived 2.2.7 reports such an
    /// instance, with the generic notify and fifo line saying FAULT.
    removed: bool,
}

/// The notify queue of an instance or sync group that a reload removed:
/// what it still had to run runs, in order, as if it were still there.
struct DepartedNotify {
    /// As its log lines name it.
    name: String,
    notify: NotifyQueue<Command>,
}

/// A `vrrp_sync_group` at run time.
struct SyncGroup {
    config: SyncGroupConfig,
    /// The state the group last moved to, for its notify commands.
    state: Option<crate::vrrp::instance::State>,
    notify: NotifyQueue<Command>,
}

pub struct Daemon {
    poll: Poll,
    clock: MonotonicClock,
    signals: Signals,
    /// Wakes the loop on the microsecond; see `sys::timer`.
    timer: DeadlineTimer,
    netlink: RtNetlink,
    link_monitor: LinkMonitor,
    links: Links,
    instances: Vec<RunningInstance>,
    scripts: Vec<ScriptRuntime>,
    groups: Vec<SyncGroup>,
    status: Option<StatusSocket>,
    /// Up (and running) or not, by interface name, for every interface an
    /// instance uses or tracks; kept current by link events.
    link_up: HashMap<String, bool>,
    /// Global script settings, for notify commands.
    script_user: Option<crate::config::RunAs>,
    script_security: bool,
    counters: Counters,
    /// Per-instance counters for `keepvip status`, by instance name so that
    /// they survive a reload that rebuilds `instances`.
    instance_stats: HashMap<String, status_report::InstanceStats>,
    log_limiter: LogLimiter,
    /// Where SIGUSR1/SIGUSR2 write their files.
    dump_dir: PathBuf,
    /// What SIGHUP reloads.
    config_path: PathBuf,
    /// Who SIGHUP reads conditional lines as.
    config_id: String,
    /// The digest of the configuration running now (see `config::digest`).
    config_digest: u32,
    /// Announcers for addresses configured on another interface than
    /// their instance's (`dev`), opened on first use.
    dev_announcers: Vec<Announcers>,
    /// Adverts waiting for the end of this turn's timers.
    adverts: AdvertQueue,
    /// Announcements waiting for their interface's spacing.
    announce_pacing: paced_announcements::AnnouncePacing,
    /// `use_vmac`: net.ipv4.conf.all.rp_filter as it was before we
    /// lowered it, to put back on exit.
    rp_filter_all: Option<u32>,
    /// The actions buffer of the timer path, kept between wakeups.
    spare_actions: Vec<Action>,
    /// The `static_*` blocks in force (see `routes`).
    statics: crate::config::StaticConfig,
    /// `track_file`s and their values.
    track_files: track_files::TrackFiles,
    /// `vrrp_track_process`es: their counts and where they come from.
    track_processes: track_processes::TrackProcesses,
    /// `notify_fifo`, `vrrp_notify_fifo` and their scripts.
    notify_fifos: notify_fifos::NotifyFifos,
    /// Notify queues of instances and groups a reload removed, until idle.
    departed_notify: Vec<DepartedNotify>,
    /// The startup script and delay, and the shutdown script.
    startup: startup::Startup,
    /// `max_auto_priority`: steps up to SCHED_RR when timers run late.
    auto_priority: scheduling::AutoPriority,
    /// How `keepvip restart` executes us again.
    reexec: Reexec,
    /// While `new` applies the config after a restart: what the previous
    /// image saved.
    resuming: Option<crate::vrrp::restart_state::RestartState>,
    /// Some instance resumed: this start continues a running daemon, so
    /// the startup script and delay are not run again.
    resumed: bool,
    /// A restart asked for and not yet done.
    restart_pending: Option<restart::PendingRestart>,
    /// Addresses a master removed itself to add them again rewritten (a
    /// reload changed their label, scope or peer), with when: the kernel's
    /// word of that removal is not someone else's (see
    /// `restore_removed_address`).
    rewritten_addresses: Vec<(u32, std::net::IpAddr, crate::vrrp::timers::Micros)>,
}

/// How the loop ended.
pub enum Exit {
    /// SIGTERM or SIGINT: instances stopped cleanly.
    Stopped(Signal),
}

impl Daemon {
    /// Opens every socket the config needs and removes stale virtual
    /// addresses left by an earlier run, but starts no instance yet.
    pub fn new(config: &Config, options: &Options) -> io::Result<Daemon> {
        let poll = Poll::new()?;
        let signals = Signals::new()?;
        watch(poll.registry(), &signals, SIGNALS)?;
        let timer = DeadlineTimer::new()?;
        watch(poll.registry(), &timer, DEADLINE)?;
        let netlink = RtNetlink::open()?;
        let link_monitor = LinkMonitor::open()?;
        watch(poll.registry(), &link_monitor, LINK_EVENTS)?;
        // A daemon without its status socket still fails over: warn only.
        let status = options.status_socket.as_deref().and_then(|path| {
            StatusSocket::bind(path, poll.registry(), STATUS_LISTENER)
                .map_err(|e| {
                    warn!(
                        "status socket {}: {e}; `keepvip status` will not work",
                        path.display()
                    )
                })
                .ok()
        });
        let mut status = status;
        if let Some(status) = &mut status {
            status.restarted_by = options.reexec.token;
        }
        let mut daemon = Daemon {
            poll,
            clock: MonotonicClock::new(),
            signals,
            timer,
            netlink,
            link_monitor,
            links: Links::default(),
            instances: Vec::new(),
            scripts: Vec::new(),
            groups: Vec::new(),
            status,
            link_up: HashMap::new(),
            script_user: None,
            script_security: false,
            config_path: options.config_path.clone(),
            config_id: options
                .config_id
                .clone()
                .unwrap_or_else(crate::config::default_config_id),
            config_digest: config.digest,
            adverts: AdvertQueue::default(),
            announce_pacing: Default::default(),
            dev_announcers: Vec::new(),
            rp_filter_all: None,
            spare_actions: Vec::new(),
            statics: Default::default(),
            track_files: Default::default(),
            track_processes: Default::default(),
            notify_fifos: Default::default(),
            departed_notify: Vec::new(),
            startup: Default::default(),
            auto_priority: scheduling::AutoPriority::new(&config.scheduling, None),
            reexec: options.reexec.clone(),
            resuming: None,
            resumed: false,
            restart_pending: None,
            rewritten_addresses: Vec::new(),
            counters: Counters::default(),
            instance_stats: HashMap::new(),
            log_limiter: LogLimiter::default(),
            dump_dir: std::env::var_os("TMPDIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp")),
        };
        match &options.resume_from {
            Some(path) => daemon.take_restart_state(path, config.digest),
            None => daemon.remove_leftover_restart_state(),
        }
        let renamed = daemon.config_keeping_vmac_names(config);
        let config = renamed.as_ref().unwrap_or(config);
        daemon.remove_stale_vmacs(config);
        let applied = daemon.apply_config(config);
        daemon.resume_departed_notify();
        daemon.resume_fifo_lines();
        // Only this start resumes: later reloads start new instances anew.
        daemon.resuming = None;
        applied?;
        daemon.apply_statics(config);
        let realtime = scheduling::apply_at_start(&config.scheduling);
        daemon.auto_priority = scheduling::AutoPriority::new(&config.scheduling, realtime);
        Ok(daemon)
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<Exit> {
        self.begin_startup();
        let mut events = Events::with_capacity(64);
        loop {
            let timeout = self.poll_timeout();
            // The poll timeout only has millisecond resolution: the timer
            // wakes us on time, the poll timeout stays as a fallback.
            if let Some(after) = timeout.filter(|t| !t.is_zero()) {
                if let Err(e) = self.timer.arm(after) {
                    warn!("deadline timer: {e}");
                }
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for event in events.iter() {
                match event.token() {
                    SIGNALS => {
                        if let Some(exit) = self.handle_signals()? {
                            return Ok(exit);
                        }
                    }
                    LINK_EVENTS => self.handle_link_events(),
                    // Only a wake-up: the next turn re-arms it.
                    DEADLINE => {}
                    STATUS_LISTENER => self.accept_status_clients(),
                    track_files::TRACK_FILES => self.handle_track_file_events(),
                    track_processes::PROC_EVENTS => self.handle_proc_events(),
                    token => match self.links.by_token(token) {
                        Some(link) => link.more_to_read = true,
                        None => self.serve_status_client(token),
                    },
                }
            }
            let mut next = self.links.next_to_read(None);
            while let Some(link) = next {
                self.read_link(link);
                next = self.links.next_to_read(Some(link));
            }
            self.run_due_timers();
        }
    }

    /// Until the earliest instance deadline; zero while a socket still has
    /// unread packets.
    fn poll_timeout(&self) -> Option<Duration> {
        if self.links.any_to_read() {
            return Some(Duration::ZERO);
        }
        let now = self.clock.now_us();
        let instances = self
            .instances
            .iter()
            .filter_map(|i| i.machine.poll_timeout());
        let scripts = self
            .scripts
            .iter()
            .filter(|s| !s.disabled)
            .filter_map(|s| s.schedule.poll_timeout());
        let notify = self.notify_poll_timeout(now);
        let status = self.status.as_ref().and_then(|s| s.poll_timeout());
        let processes = self.track_processes.poll_timeout();
        let announcements = self.announce_pacing.poll_timeout();
        let earliest = instances
            .chain(announcements)
            .chain(scripts)
            .chain(notify)
            .chain(status)
            .chain(processes)
            .chain(self.startup.poll_timeout())
            .chain(self.restart_poll_timeout())
            .min()?;
        // Round up so that we never wake a hair early and spin.
        Some(Duration::from_micros(earliest.saturating_sub(now) + 1))
    }

    fn run_due_timers(&mut self) {
        let now = self.clock.now_us();
        self.run_due_scripts(now);
        self.run_due_track_processes(now);
        self.run_due_startup(now);
        self.run_notify_queues(now);
        self.send_due_announcements();
        if let Some(status) = &mut self.status {
            status.expire(self.poll.registry(), now);
        }
        let earliest_due = self
            .instances
            .iter()
            .filter_map(|i| i.machine.poll_timeout())
            .filter(|t| *t <= now)
            .min();
        if let Some(due) = earliest_due {
            self.auto_priority.timer_ran_late(now - due);
        }
        // Reused: a wakeup allocates nothing.
        let mut actions = std::mem::take(&mut self.spare_actions);
        for index in 0..self.instances.len() {
            if self.instances[index]
                .machine
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                let machine = &mut self.instances[index].machine;
                let late_before = machine.late_adverts();
                machine.handle_timeout(now, &mut actions);
                self.counters.adverts_late += machine.late_adverts() - late_before;
                self.carry_out(index, actions.drain(..));
            }
        }
        // The adverts of every instance due now, in one go.
        self.flush_adverts();
        self.spare_actions = actions;
        self.run_due_restart(now);
    }

    fn handle_signals(&mut self) -> io::Result<Option<Exit>> {
        while let Some(signal) = self.signals.read()? {
            match signal {
                Signal::SIGTERM | Signal::SIGINT => {
                    info!("Stopping");
                    self.stop_all();
                    return Ok(Some(Exit::Stopped(signal)));
                }
                Signal::SIGHUP => {
                    self.reload();
                }
                Signal::SIGQUIT => self.request_restart(None),
                Signal::SIGUSR1 => self.write_dump("keepvip.data", self.render_state()),
                Signal::SIGUSR2 => self.write_dump("keepvip.stats", self.counters.render()),
                Signal::SIGCHLD => self.reap_children(),
                _ => {}
            }
        }
        Ok(None)
    }

    fn stop_all(&mut self) {
        let now = self.clock.now_us();
        for index in 0..self.instances.len() {
            let mut actions = Vec::new();
            self.instances[index].machine.stop(now, &mut actions);
            self.execute(index, actions);
        }
        self.remove_statics();
        self.delete_all_vmacs();
        self.finish_children();
        self.close_notify_fifos();
        self.run_shutdown_script();
    }
}

/// Registers a descriptor of ours for reading under `token`.
pub(super) fn watch(registry: &Registry, source: &impl AsRawFd, token: Token) -> io::Result<()> {
    registry.register(
        &mut SourceFd(&source.as_raw_fd()),
        token,
        Interest::READABLE,
    )
}

/// A virtual address found on the interface at start belongs to an earlier
/// run that died without cleaning up: as backup we must not hold it.
fn remove_stale_addresses(netlink: &mut RtNetlink, instance: &RunningInstance) {
    let placed = instance
        .config
        .virtual_addresses
        .iter()
        .zip(&instance.address_ifindex)
        .filter(|(_, &ifindex)| ifindex != NOT_CREATED);
    for (vip, ifindex) in placed {
        match netlink.del_ip_with_peer(*ifindex, vip.addr, vip.prefix_len, vip.peer) {
            Ok(true) => info!(
                "({}) removed stale {}/{}",
                instance.config.name, vip.addr, vip.prefix_len
            ),
            Ok(false) => {}
            Err(e) => warn!(
                "({}) cannot check for stale {}: {e}",
                instance.config.name, vip.addr
            ),
        }
    }
}
