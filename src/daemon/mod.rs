//! The one event loop: a mio `Poll` over the VRRP sockets, the link-event
//! netlink socket and the signal fd (SIGCHLD included, for script children);
//! timers from the instances', scripts' and notify queues' own deadlines;
//! and the actions the core asks for carried out through `sys`.
//!
//! Nothing in here decides anything about VRRP; it moves events into the
//! state machines and their actions out to the kernel.

mod actions;
mod dump;
mod link;
mod packets;
mod scripts;
pub mod stats;
mod tracking;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use log::{info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::Signal;

use crate::config::{Config, InstanceConfig};
use crate::sys::clock::MonotonicClock;
use crate::sys::link_monitor::LinkMonitor;
use crate::sys::rtnetlink::RtNetlink;
use crate::sys::signals::Signals;
use crate::tracking::notify_queue::NotifyQueue;
use crate::vrrp::instance::Instance;
use link::Link;
use scripts::ScriptRuntime;
use stats::{Counters, LogLimiter};

pub use scripts::unrunnable_commands;

const SIGNALS: Token = Token(usize::MAX);
const LINK_EVENTS: Token = Token(usize::MAX - 1);
/// Packets read from one socket before timers get their turn: a flood must
/// not delay our own adverts.
const READ_BATCH: usize = 64;
/// Large enough for any VRRP packet (255 addresses) with its IP header.
const RECV_BUFFER: usize = 2048;

struct RunningInstance {
    config: InstanceConfig,
    machine: Instance,
    /// Index into `Daemon::links`.
    link: usize,
    /// The interface index each virtual address goes on (its `dev`, or the
    /// instance's interface).
    address_ifindex: Vec<u32>,
    /// Its notify commands, run one at a time in transition order.
    notify: NotifyQueue,
}

pub struct Daemon {
    poll: Poll,
    clock: MonotonicClock,
    signals: Signals,
    netlink: RtNetlink,
    link_monitor: LinkMonitor,
    links: Vec<Link>,
    instances: Vec<RunningInstance>,
    scripts: Vec<ScriptRuntime>,
    /// Up (and running) or not, by interface name, for every interface an
    /// instance uses or tracks; kept current by link events.
    link_up: HashMap<String, bool>,
    /// Global script settings, for notify commands.
    script_user: Option<crate::config::RunAs>,
    script_security: bool,
    counters: Counters,
    log_limiter: LogLimiter,
    /// Where SIGUSR1/SIGUSR2 write their files.
    dump_dir: PathBuf,
}

/// How the loop ended.
pub enum Exit {
    /// SIGTERM or SIGINT: instances stopped cleanly.
    Stopped(Signal),
}

impl Daemon {
    /// Opens every socket the config needs and removes stale virtual
    /// addresses left by an earlier run, but starts no instance yet.
    pub fn new(config: &Config) -> io::Result<Daemon> {
        let poll = Poll::new()?;
        let signals = Signals::new()?;
        poll.registry().register(
            &mut SourceFd(&signals.as_raw_fd()),
            SIGNALS,
            Interest::READABLE,
        )?;
        let mut netlink = RtNetlink::open()?;
        let link_monitor = LinkMonitor::open()?;
        poll.registry().register(
            &mut SourceFd(&link_monitor.as_raw_fd()),
            LINK_EVENTS,
            Interest::READABLE,
        )?;
        let mut links: Vec<Link> = Vec::new();
        let mut link_of: HashMap<(String, bool, Option<IpAddr>), usize> = HashMap::new();
        let mut instances = Vec::new();
        for config in &config.instances {
            let source = config.source_address();
            let key = (config.interface.clone(), config.is_ipv6(), source);
            let link = match link_of.get(&key) {
                Some(index) => *index,
                None => {
                    let link = Link::open(&config.interface, config.is_ipv6(), source)?;
                    let index = links.len();
                    poll.registry().register(
                        &mut SourceFd(&link.as_raw_fd()),
                        Token(index),
                        Interest::READABLE,
                    )?;
                    links.push(link);
                    link_of.insert(key, index);
                    index
                }
            };
            let mut address_ifindex = Vec::new();
            for vip in &config.virtual_addresses {
                let ifindex = match &vip.dev {
                    Some(dev) => crate::sys::interface::ifindex(dev).map_err(|e| {
                        io::Error::new(e.kind(), format!("{}: dev {dev}: {e}", vip.span))
                    })?,
                    None => links[link].ifindex,
                };
                address_ifindex.push(ifindex);
            }
            let machine = Instance::new(config, links[link].source);
            let running = RunningInstance {
                config: config.clone(),
                machine,
                link,
                address_ifindex,
                notify: NotifyQueue::default(),
            };
            remove_stale_addresses(&mut netlink, &running);
            instances.push(running);
        }
        let clock = MonotonicClock::new();
        let now = clock.now_us();
        let scripts = config
            .scripts
            .iter()
            .map(|script| ScriptRuntime::new(script, config, now))
            .collect();
        let mut link_up = HashMap::new();
        for instance in &instances {
            let tracked = instance
                .config
                .track_interfaces
                .iter()
                .map(|t| &t.interface);
            for name in std::iter::once(&instance.config.interface).chain(tracked) {
                let up = crate::sys::interface::is_up(name).unwrap_or(false);
                link_up.insert(name.clone(), up);
            }
        }
        Ok(Daemon {
            poll,
            clock,
            signals,
            netlink,
            link_monitor,
            links,
            instances,
            scripts,
            link_up,
            script_user: config.script_user.clone(),
            script_security: config.script_security,
            counters: Counters::default(),
            log_limiter: LogLimiter::default(),
            dump_dir: std::env::var_os("TMPDIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp")),
        })
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<Exit> {
        let now = self.clock.now_us();
        for index in 0..self.instances.len() {
            // Tracking first, so an instance whose link is down or whose
            // init_fail check is down starts in FAULT or at its priority.
            self.evaluate_tracking(index, now);
            let mut actions = Vec::new();
            self.instances[index].machine.start(now, &mut actions);
            self.execute(index, actions);
        }
        let mut events = Events::with_capacity(64);
        loop {
            let timeout = self.poll_timeout();
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
                    Token(link) => self.links[link].more_to_read = true,
                }
            }
            for link in 0..self.links.len() {
                if self.links[link].more_to_read {
                    self.read_link(link);
                }
            }
            self.run_due_timers();
        }
    }

    /// Until the earliest instance deadline; zero while a socket still has
    /// unread packets.
    fn poll_timeout(&self) -> Option<Duration> {
        if self.links.iter().any(|l| l.more_to_read) {
            return Some(Duration::ZERO);
        }
        let now = self.clock.now_us();
        let instances = self.instances.iter().flat_map(|i| {
            let notify = i.notify.poll_timeout(now);
            i.machine.poll_timeout().into_iter().chain(notify)
        });
        let scripts = self
            .scripts
            .iter()
            .filter_map(|s| s.schedule.poll_timeout());
        let earliest = instances.chain(scripts).min()?;
        // Round up so that we never wake a hair early and spin.
        Some(Duration::from_micros(earliest.saturating_sub(now) + 1))
    }

    fn run_due_timers(&mut self) {
        let now = self.clock.now_us();
        self.run_due_scripts(now);
        for index in 0..self.instances.len() {
            self.run_notify_queue(index, now);
        }
        for index in 0..self.instances.len() {
            if self.instances[index]
                .machine
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                let mut actions = Vec::new();
                self.instances[index]
                    .machine
                    .handle_timeout(now, &mut actions);
                self.execute(index, actions);
            }
        }
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
                    warn!("SIGHUP: reloading is not implemented yet; the running configuration is unchanged");
                }
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
        self.finish_children();
    }
}

/// A virtual address found on the interface at start belongs to an earlier
/// run that died without cleaning up: as backup we must not hold it.
fn remove_stale_addresses(netlink: &mut RtNetlink, instance: &RunningInstance) {
    for (vip, ifindex) in instance
        .config
        .virtual_addresses
        .iter()
        .zip(&instance.address_ifindex)
    {
        match netlink.del_ip(*ifindex, vip.addr, vip.prefix_len) {
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
