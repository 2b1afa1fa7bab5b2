//! The one event loop: a mio `Poll` over the VRRP sockets and the signal fd,
//! timers from the instances' own deadlines, and the actions the core asks
//! for carried out through `sys`.
//!
//! Nothing in here decides anything about VRRP; it moves events into the
//! state machines and their actions out to the kernel.

mod link;
pub mod stats;

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use log::{debug, error, info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::Signal;

use crate::config::{Config, InstanceConfig};
use crate::sys::clock::MonotonicClock;
use crate::sys::rtnetlink::RtNetlink;
use crate::sys::signals::Signals;
use crate::vrrp::discard::{decode_packet, Discard};
use crate::vrrp::instance::{Action, Instance, State, PRIORITY_STOPPING};
use crate::vrrp::timers::Micros;
use link::Link;
use stats::{Counters, LogKey, LogLimiter};

const SIGNALS: Token = Token(usize::MAX);
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
}

pub struct Daemon {
    poll: Poll,
    clock: MonotonicClock,
    signals: Signals,
    netlink: RtNetlink,
    links: Vec<Link>,
    instances: Vec<RunningInstance>,
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
        let mut links: Vec<Link> = Vec::new();
        let mut link_of: HashMap<(String, Option<Ipv4Addr>), usize> = HashMap::new();
        let mut instances = Vec::new();
        for config in &config.instances {
            let key = (config.interface.clone(), config.mcast_src_ip);
            let link = match link_of.get(&key) {
                Some(index) => *index,
                None => {
                    let link = Link::open(&config.interface, config.mcast_src_ip)?;
                    let index = links.len();
                    poll.registry().register(
                        &mut SourceFd(&link.socket.as_raw_fd()),
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
            };
            remove_stale_addresses(&mut netlink, &running);
            instances.push(running);
        }
        Ok(Daemon {
            poll,
            clock: MonotonicClock::new(),
            signals,
            netlink,
            links,
            instances,
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
        let earliest = self
            .instances
            .iter()
            .filter_map(|i| i.machine.poll_timeout())
            .min()?;
        let now = self.clock.now_us();
        // Round up so that we never wake a hair early and spin.
        Some(Duration::from_micros(earliest.saturating_sub(now) + 1))
    }

    fn run_due_timers(&mut self) {
        let now = self.clock.now_us();
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

    /// Reads at most one batch from a link's socket.
    fn read_link(&mut self, link: usize) {
        let mut buf = [0u8; RECV_BUFFER];
        for _ in 0..READ_BATCH {
            match self.links[link].socket.recv(&mut buf) {
                Ok(Some(len)) => self.handle_packet(link, &buf[..len]),
                Ok(None) => {
                    self.links[link].more_to_read = false;
                    return;
                }
                Err(e) => {
                    warn!("{}: receive error: {e}", self.links[link].name);
                    self.links[link].more_to_read = false;
                    return;
                }
            }
        }
    }

    fn handle_packet(&mut self, link: usize, bytes: &[u8]) {
        let now = self.clock.now_us();
        let received = match decode_packet(bytes) {
            Ok(received) => received,
            Err(reason) => return self.discard(reason, None, now),
        };
        let vrid = received.advert.vrid;
        let Some(index) = self
            .instances
            .iter()
            .position(|i| i.link == link && i.machine.vrid() == vrid)
        else {
            return self.discard(Discard::UnknownVrid, Some(received.source), now);
        };
        let mut actions = Vec::new();
        let instance = &mut self.instances[index];
        match instance
            .machine
            .handle_advert(now, received.source, &received.advert, &mut actions)
        {
            Ok(accepted) => {
                self.counters.adverts_received += 1;
                if received.advert.priority == PRIORITY_STOPPING {
                    self.counters.priority_zero_received += 1;
                    info!(
                        "({}) Backup received priority 0 advertisement",
                        instance.config.name
                    );
                }
                if accepted.address_list_differs {
                    self.counters.address_list_mismatch += 1;
                    if self
                        .log_limiter
                        .allow(LogKey::AddressListMismatch, now)
                        .is_some()
                    {
                        warn!(
                            "({}) advertisement from {} lists other virtual addresses than ours: accepted",
                            instance.config.name, received.source
                        );
                    }
                }
                self.execute(index, actions);
            }
            Err(reason) => self.discard(reason, Some(received.source), now),
        }
    }

    fn discard(&mut self, reason: Discard, source: Option<Ipv4Addr>, now: Micros) {
        self.counters.discard(reason);
        // Our own adverts come back on some setups; not worth a line.
        if reason == Discard::OwnAdvert {
            return;
        }
        if let Some(suppressed) = self.log_limiter.allow(LogKey::Discard(reason), now) {
            let from = source.map(|s| format!(" from {s}")).unwrap_or_default();
            let more = if suppressed > 0 {
                format!(" ({suppressed} more since the last report)")
            } else {
                String::new()
            };
            warn!("dropped VRRP packet{from}: {reason}{more}");
        }
    }

    /// Carries out a state machine's actions, in order.
    fn execute(&mut self, index: usize, actions: Vec<Action>) {
        for action in actions {
            let instance = &self.instances[index];
            let name = &instance.config.name;
            match action {
                Action::StateChanged { from, to } => {
                    match (from, to) {
                        (State::Initialize, State::Backup) => {
                            info!("({name}) Entering BACKUP STATE (init)")
                        }
                        (_, State::Stopped) => info!("({name}) Stopped"),
                        _ => info!("({name}) Entering {to} STATE"),
                    }
                    if to == State::Master {
                        self.counters.became_master += 1;
                    }
                }
                Action::SendAdvert(advert) => {
                    let link = &self.links[instance.link];
                    match link.socket.send(&advert.to_bytes()) {
                        Ok(()) => {
                            self.counters.adverts_sent += 1;
                            if advert.priority == PRIORITY_STOPPING {
                                self.counters.priority_zero_sent += 1;
                                info!("({name}) sent 0 priority");
                            }
                        }
                        Err(e) => {
                            self.counters.send_errors += 1;
                            debug!("({name}) advert not sent on {}: {e}", link.name);
                        }
                    }
                }
                Action::AddVirtualAddresses => {
                    info!("({name}) setting VIPs.");
                    for (vip, ifindex) in instance
                        .config
                        .virtual_addresses
                        .iter()
                        .zip(&instance.address_ifindex)
                    {
                        match self.netlink.add_ipv4(
                            *ifindex,
                            vip.addr,
                            vip.prefix_len,
                            vip.label.as_deref(),
                        ) {
                            Ok(()) => {}
                            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                            Err(e) => {
                                error!("({name}) cannot add {}/{}: {e}", vip.addr, vip.prefix_len)
                            }
                        }
                    }
                }
                Action::RemoveVirtualAddresses => {
                    info!("({name}) removing VIPs.");
                    for (vip, ifindex) in instance
                        .config
                        .virtual_addresses
                        .iter()
                        .zip(&instance.address_ifindex)
                    {
                        if let Err(e) = self.netlink.del_ipv4(*ifindex, vip.addr, vip.prefix_len) {
                            error!(
                                "({name}) cannot remove {}/{}: {e}",
                                vip.addr, vip.prefix_len
                            );
                        }
                    }
                }
                Action::SendGratuitousArp => {
                    let link = &self.links[instance.link];
                    for vip in &instance.config.virtual_addresses {
                        info!(
                            "({name}) Sending gratuitous ARPs on {} for {}",
                            link.name, vip.addr
                        );
                        for _ in 0..instance.config.garp_master_repeat {
                            if let Err(e) = link.arp.send(link.mac, vip.addr) {
                                debug!("({name}) gratuitous ARP for {} not sent: {e}", vip.addr);
                            }
                        }
                    }
                }
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
    }

    fn render_state(&self) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        for instance in &self.instances {
            let m = &instance.machine;
            let timers = m.timers();
            let _ = writeln!(text, "VRRP Instance = {}", m.name());
            let _ = writeln!(text, "  State = {}", m.state());
            let _ = writeln!(text, "  Interface = {}", instance.config.interface);
            let _ = writeln!(text, "  Virtual Router ID = {}", m.vrid());
            let _ = writeln!(text, "  Priority = {}", m.priority());
            let _ = writeln!(text, "  Source address = {}", m.address());
            let _ = writeln!(text, "  Preempt = {}", instance.config.preempt);
            let _ = writeln!(text, "  Advert interval = {} usecs", timers.advert_interval);
            let _ = writeln!(text, "  Master down timer = {} usecs", timers.master_down);
            for vip in &instance.config.virtual_addresses {
                let _ = writeln!(text, "  Virtual address = {}/{}", vip.addr, vip.prefix_len);
            }
        }
        text
    }

    fn write_dump(&self, file: &str, text: String) {
        let path = self.dump_dir.join(file);
        match std::fs::write(&path, text) {
            Ok(()) => info!("wrote {}", path.display()),
            Err(e) => error!("cannot write {}: {e}", path.display()),
        }
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
        match netlink.del_ipv4(*ifindex, vip.addr, vip.prefix_len) {
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
