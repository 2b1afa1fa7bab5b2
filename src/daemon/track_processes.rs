//! `vrrp_track_process` at run time. Process starts and exits come from
//! the kernel's process events connector, after one scan of /proc; where
//! the kernel refuses the connector (any network namespace but the initial
//! one, so `ip netns exec` and most containers), /proc is scanned on a
//! timer instead, at the advert interval of the fastest instance that
//! tracks a process. No thread; no polling while the connector works.

use std::collections::HashMap;
use std::os::fd::AsRawFd;

use log::{info, warn};
use mio::unix::SourceFd;
use mio::{Registry, Token};

use super::{watch, Daemon};
use crate::config::{Config, TrackProcessConfig};
use crate::sys::proc_events::{process_ids, process_info, ProcEvent, ProcEvents};
use crate::tracking::track_process::{matches, ProcessInfo, Quorum};
use crate::tracking::verdict::{Tracked, Weight};
use crate::vrrp::instance::State;
use crate::vrrp::timers::Micros;

/// Where the loop hears of process events (away from the fixed tokens
/// that count down from usize::MAX).
pub(super) const PROC_EVENTS: Token = Token(usize::MAX - 17);
/// Scans of /proc are no more frequent than this, nor rarer than the
/// slowest: a scan reads a file per process.
const MIN_SCAN_US: u64 = 100_000;
const MAX_SCAN_US: u64 = 1_000_000;

#[derive(Default)]
enum Source {
    #[default]
    Off,
    Events(ProcEvents),
    Scans {
        period_us: u64,
        next_us: Micros,
    },
}

#[derive(Default)]
pub(super) struct TrackProcesses {
    configs: Vec<TrackProcessConfig>,
    quorums: Vec<Quorum>,
    /// Each matching process and the configs it counts for.
    pids: HashMap<u32, Vec<usize>>,
    source: Source,
    /// How often /proc is scanned if the connector is refused.
    scan_us: u64,
}

impl TrackProcesses {
    /// Follows `configs` (instances refer to them by index): subscribes
    /// to process events (or falls back to scans) and counts what runs now.
    fn apply(
        &mut self,
        configs: &[TrackProcessConfig],
        scan_us: u64,
        registry: &Registry,
        now: Micros,
    ) {
        self.configs = configs.to_vec();
        self.scan_us = scan_us;
        if configs.is_empty() {
            if let Source::Events(events) = &self.source {
                let _ = registry.deregister(&mut SourceFd(&events.as_raw_fd()));
            }
            self.source = Source::Off;
            self.quorums.clear();
            self.pids.clear();
            return;
        }
        match &mut self.source {
            Source::Off => {
                // Subscribe first, then scan: nothing that starts in
                // between is missed.
                self.source = match ProcEvents::subscribe()
                    .and_then(|events| watch(registry, &events, PROC_EVENTS).map(|()| events))
                {
                    Ok(events) => Source::Events(events),
                    Err(e) => {
                        warn!(
                            "Failed to set/clear process event listen - {e}: tracking processes \
                             by scanning /proc every {} ms instead",
                            scan_us / 1000
                        );
                        Source::Scans {
                            period_us: scan_us,
                            next_us: now + scan_us,
                        }
                    }
                };
            }
            Source::Scans { period_us, .. } => *period_us = scan_us,
            Source::Events(_) => {}
        }
        self.scan();
        self.quorums = self
            .configs
            .iter()
            .enumerate()
            .map(|(index, config)| Quorum::new(config, self.count(index)))
            .collect();
    }

    fn needs_cmdline(&self) -> bool {
        self.configs.iter().any(|c| {
            c.full_command
                || !c.params.is_empty()
                || c.param_match != crate::config::ParamMatch::Default
        })
    }

    /// Which configs the process `pid` counts for now.
    fn matching(&self, pid: u32, with_cmdline: bool) -> Vec<usize> {
        let Some((comm, cmdline)) = process_info(pid, with_cmdline) else {
            return Vec::new();
        };
        let info = ProcessInfo { comm, cmdline };
        (0..self.configs.len())
            .filter(|&i| matches(&self.configs[i], &info))
            .collect()
    }

    fn scan(&mut self) {
        let with_cmdline = self.needs_cmdline();
        let pids = match process_ids() {
            Ok(pids) => pids,
            Err(e) => {
                warn!("track_process: cannot read /proc: {e}");
                return;
            }
        };
        let own = std::process::id();
        self.pids = pids
            .into_iter()
            .filter(|&pid| pid != own)
            .map(|pid| (pid, self.matching(pid, with_cmdline)))
            .filter(|(_, matching)| !matching.is_empty())
            .collect();
    }

    fn update(&mut self, pid: u32) {
        let matching = self.matching(pid, self.needs_cmdline());
        if matching.is_empty() {
            self.pids.remove(&pid);
        } else {
            self.pids.insert(pid, matching);
        }
    }

    fn count(&self, index: usize) -> u32 {
        self.pids.values().filter(|m| m.contains(&index)).count() as u32
    }

    /// Feeds the counts to the quorums; the indexes whose check changed.
    fn recount(&mut self, now: Micros) -> Vec<usize> {
        (0..self.quorums.len())
            .filter(|&index| {
                let count = self.count(index);
                self.quorums[index].set_count(now, count)
            })
            .collect()
    }

    /// After the connector said something.
    fn read_events(&mut self, registry: &Registry, now: Micros) -> Vec<usize> {
        let scan_us = self.scan_us;
        let Source::Events(events) = &self.source else {
            return Vec::new();
        };
        match events.read_events() {
            Ok(batch) => {
                for event in batch {
                    match event {
                        ProcEvent::Forked(pid) | ProcEvent::Changed(pid) => self.update(pid),
                        ProcEvent::Exited(pid) => {
                            self.pids.remove(&pid);
                        }
                        ProcEvent::Ack(0) => {}
                        ProcEvent::Ack(errno) => {
                            let e = std::io::Error::from_raw_os_error(errno);
                            warn!(
                                "Failed to set/clear process event listen - {e}: tracking \
                                 processes by scanning /proc every {} ms instead",
                                scan_us / 1000
                            );
                            if let Source::Events(events) = &self.source {
                                let _ = registry.deregister(&mut SourceFd(&events.as_raw_fd()));
                            }
                            self.source = Source::Scans {
                                period_us: scan_us,
                                next_us: now,
                            };
                            self.scan();
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                // Events were lost (ENOBUFS): count afresh.
                warn!("process events: {e}; scanning /proc again");
                self.scan();
            }
        }
        self.recount(now)
    }

    pub fn poll_timeout(&self) -> Option<Micros> {
        let scan = match self.source {
            Source::Scans { next_us, .. } => Some(next_us),
            _ => None,
        };
        self.quorums
            .iter()
            .filter_map(Quorum::poll_timeout)
            .chain(scan)
            .min()
    }

    /// Due scans and delays; the indexes whose check changed.
    fn handle_timeout(&mut self, now: Micros) -> Vec<usize> {
        let mut changed = Vec::new();
        if let Source::Scans { period_us, next_us } = &mut self.source {
            if *next_us <= now {
                *next_us = now + *period_us;
                self.scan();
                changed = self.recount(now);
            }
        }
        for (index, quorum) in self.quorums.iter_mut().enumerate() {
            if quorum.handle_timeout(now) && !changed.contains(&index) {
                changed.push(index);
            }
        }
        changed
    }

    fn is_up(&self, index: usize) -> bool {
        self.quorums.get(index).is_some_and(Quorum::is_up)
    }
}

/// The scan period: the advert interval of the fastest instance that
/// tracks a process, so a dead process is seen within one interval.
fn scan_period_us(config: &Config) -> u64 {
    config
        .instances
        .iter()
        .filter(|i| !i.track_processes.is_empty())
        .map(|i| u64::from(i.advert_int_cs) * 10_000)
        .min()
        .unwrap_or(MAX_SCAN_US)
        .clamp(MIN_SCAN_US, MAX_SCAN_US)
}

impl Daemon {
    pub(super) fn apply_track_processes(&mut self, config: &Config) {
        let now = self.clock.now_us();
        self.track_processes.apply(
            &config.track_processes,
            scan_period_us(config),
            self.poll.registry(),
            now,
        );
        for (config, quorum) in self
            .track_processes
            .configs
            .iter()
            .zip(&self.track_processes.quorums)
        {
            info!(
                "Track process {}: {} running, quorum {}",
                config.name,
                quorum.count(),
                if quorum.is_up() { "up" } else { "down" }
            );
        }
    }

    pub(super) fn handle_proc_events(&mut self) {
        let now = self.clock.now_us();
        let changed = self.track_processes.read_events(self.poll.registry(), now);
        self.track_processes_changed(&changed, now);
    }

    pub(super) fn run_due_track_processes(&mut self, now: Micros) {
        if self
            .track_processes
            .poll_timeout()
            .is_some_and(|t| t <= now)
        {
            let changed = self.track_processes.handle_timeout(now);
            self.track_processes_changed(&changed, now);
        }
    }

    fn track_processes_changed(&mut self, changed: &[usize], now: Micros) {
        for &index in changed {
            let tracker = &self.track_processes;
            let (Some(config), Some(quorum)) =
                (tracker.configs.get(index), tracker.quorums.get(index))
            else {
                continue;
            };
            info!(
                "Track process {}: {} running, quorum {}",
                config.name,
                quorum.count(),
                if quorum.is_up() { "gained" } else { "lost" }
            );
        }
        for instance in 0..self.instances.len() {
            if self.instances[instance]
                .config
                .track_processes
                .iter()
                .any(|t| changed.contains(&t.process))
            {
                self.evaluate_tracking(instance, now);
            }
        }
    }

    /// An instance's tracked processes, for `evaluate_tracking`; a process
    /// that puts it in FAULT is logged in keepalived's words.
    pub(super) fn tracked_processes(&self, index: usize) -> Vec<Tracked> {
        let instance = &self.instances[index];
        instance
            .config
            .track_processes
            .iter()
            .map(|t| {
                let tracked = Tracked {
                    weight: Weight::new(t.weight, t.reverse),
                    up: Some(self.track_processes.is_up(t.process)),
                };
                let faulty =
                    tracked.weight.effect(tracked.up) == crate::tracking::verdict::Effect::Fault;
                if faulty && instance.machine.state() != State::Fault {
                    let name = self
                        .track_processes
                        .configs
                        .get(t.process)
                        .map_or("", |c| c.name.as_str());
                    info!(
                        "({}) entering FAULT state (tracked process {name} quorum not achieved)",
                        instance.config.name
                    );
                }
                tracked
            })
            .collect()
    }
}
