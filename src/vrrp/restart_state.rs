//! The state a hitless restart hands from one image of the daemon to the
//! next (`keepvip restart`): a small line-oriented text file, written by
//! the old image just before it re-executes the binary and read (then
//! deleted) by the new one. Here: its codec, and the rules that say when
//! it must not be trusted. No I/O.
//!
//! ```text
//! keepvip-restart-state 2
//! boot_id 0f6c...
//! config_digest 1a2b3c4d
//! written_us 123456789
//! rp_filter_all 1
//! instance VI_1 state MASTER priority 150 master_interval_cs 100 advert 123457000 master_down - garp_repeat - garp_refresh - ah_sequence 0 preempt_allowed_at -
//! script chk up yes reported yes against 1 pid 4321 started 123400000 next 124000000
//! group G1 state MASTER
//! vmac VI_1 parent eth0 own yes name vrrp1.51
//! notify VI_1 owner instance transition 3 since 123400000 user - group - file /etc/keepalived/keepalived.conf line 12 argv /bin/sh,-c,echo%20$*,VI_1,BACKUP
//! notify_running VI_1 owner instance pid 4400 deadline 153000000 set_aside no
//! fifo INSTANCE%20"VI_2"%20FAULT%20150%0A
//! end
//! ```
//!
//! `notify` lines are the notify commands queued and not started yet, in
//! order, and `notify_running` the ones running (the next image's
//! children too), which the queued ones still wait for. Their words are
//! escaped (`%XX` for a blank, `%` and `,`; `%2D` for a word that is `-`)
//! and an argv's words joined with commas. `fifo` lines are the notify
//! fifo lines the restart's own reload wrote (an instance it removed),
//! escaped alike, for the next image's fifo scripts.
//!
//! Version 1 (keepvip before the preempt_delay window and rp_filter were
//! carried) is still read: it has no `rp_filter_all` line and no notify
//! lines, and its instance lines end at `ah_sequence`; a backup resumed
//! from it starts any preempt_delay window again.
//!
//! `vmac` lines (added within version 2; a file without them is read as
//! before) name the running instances' macvlans, which the next image
//! keeps though a load from scratch may name them otherwise. An image
//! from before them refuses such a file and starts afresh.
//!
//! Times are CLOCK_MONOTONIC in microseconds, which both images share.
//! Names never hold white space (the config lexer splits on it), so
//! `key value` pairs separated by spaces are unambiguous.

use std::fmt::Write as _;

use super::instance::{Snapshot, State};
use super::timers::Micros;
use crate::config::{Command, KeptVmac, RunAs, Span};
use crate::tracking::health::HealthReading;
use crate::tracking::notify_queue::{CarriedCommand, CarriedQueue, CarriedRun, NOTIFY_MAX_WAIT};

const MAGIC: &str = "keepvip-restart-state";
/// Bumped whenever a line changes meaning: an image never reads a version
/// it does not know (it starts normally instead). What it writes.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest version it still reads: an upgrade from an image that wrote
/// it is hitless too.
const OLDEST_VERSION_READ: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartState {
    /// /proc/sys/kernel/random/boot_id: monotonic times mean nothing
    /// across a reboot.
    pub boot_id: String,
    /// The digest of the configuration the old image ran.
    pub config_digest: u32,
    pub written_us: Micros,
    /// `use_vmac`: net.ipv4.conf.all.rp_filter as it was before the first
    /// image lowered it, owed back at stop (the next image finds it at 0).
    /// None: not lowered by us, or not known (a version 1 file).
    pub rp_filter_all: Option<u32>,
    pub instances: Vec<SavedInstance>,
    pub scripts: Vec<SavedScript>,
    pub groups: Vec<SavedGroup>,
    /// Notify queues with commands waiting or running.
    pub notify: Vec<SavedNotify>,
    /// Notify fifo lines of the restart's own reload, for the next image's
    /// fifo scripts (the old ones are killed at the exec).
    pub fifo_lines: Vec<String>,
    /// The running instances' macvlans (`use_vmac`), by name.
    pub vmacs: Vec<KeptVmac>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedInstance {
    pub name: String,
    pub snapshot: Snapshot,
    /// `auth_type AH`: peers refuse a sequence number that goes back.
    pub ah_sequence: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedScript {
    pub name: String,
    pub health: HealthReading,
    /// A run in progress: its process (adopted by the next image, same
    /// pid as ever) and when it started.
    pub running: Option<(u32, Micros)>,
    pub next_run: Micros,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedGroup {
    pub name: String,
    pub state: Option<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedNotify {
    pub owner: NotifyOwner,
    pub queue: CarriedQueue<Command>,
}

/// Whose notify queue, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyOwner {
    Instance(String),
    Group(String),
    /// Of an instance or group a reload removed; named as its log lines
    /// name it.
    Departed(String),
}

impl NotifyOwner {
    fn kind_and_name(&self) -> (&'static str, &str) {
        match self {
            NotifyOwner::Instance(name) => ("instance", name),
            NotifyOwner::Group(name) => ("group", name),
            NotifyOwner::Departed(name) => ("departed", name),
        }
    }
}

/// Why a state file is not used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distrust {
    OtherBoot,
    OtherConfig {
        saved: u32,
        running: u32,
    },
    /// Written "after" now: not from this clock.
    FromTheFuture,
}

impl std::fmt::Display for Distrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Distrust::OtherBoot => f.write_str("it was written before the last boot"),
            Distrust::OtherConfig { saved, running } => write!(
                f,
                "it is for config digest {saved:08x}, the config loaded now is {running:08x}"
            ),
            Distrust::FromTheFuture => f.write_str("its time is later than now"),
        }
    }
}

impl RestartState {
    /// Whether the file as a whole may be used by a daemon that booted as
    /// `boot_id`, loaded a config with `digest`, at monotonic time `now`.
    pub fn trust(&self, boot_id: &str, digest: u32, now: Micros) -> Result<(), Distrust> {
        if self.boot_id != boot_id {
            return Err(Distrust::OtherBoot);
        }
        if self.config_digest != digest {
            return Err(Distrust::OtherConfig {
                saved: self.config_digest,
                running: digest,
            });
        }
        if self.written_us > now {
            return Err(Distrust::FromTheFuture);
        }
        Ok(())
    }

    /// An instance whose state is older than its master_down: its peers
    /// have acted on its silence (a backup took over), so it starts as at
    /// boot rather than resume a state the LAN no longer agrees with.
    pub fn too_old_for(&self, now: Micros, master_down: Micros) -> bool {
        now.saturating_sub(self.written_us) >= master_down
    }

    pub fn render(&self) -> String {
        let mut text = format!("{MAGIC} {FORMAT_VERSION}\n");
        let _ = writeln!(text, "boot_id {}", self.boot_id);
        let _ = writeln!(text, "config_digest {:08x}", self.config_digest);
        let _ = writeln!(text, "written_us {}", self.written_us);
        let rp_filter_all = self
            .rp_filter_all
            .map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(text, "rp_filter_all {rp_filter_all}");
        for i in &self.instances {
            let s = &i.snapshot;
            let _ = writeln!(
                text,
                "instance {} state {} priority {} master_interval_cs {} advert {} \
                 master_down {} garp_repeat {} garp_refresh {} ah_sequence {} \
                 preempt_allowed_at {}",
                i.name,
                s.state,
                s.priority,
                s.master_interval_cs,
                time(s.advert),
                time(s.master_down),
                time(s.garp_repeat),
                time(s.garp_refresh),
                i.ah_sequence,
                time(s.preempt_allowed_at)
            );
        }
        for s in &self.scripts {
            let h = &s.health;
            let up = match h.up {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            };
            let reported = if h.reported { "yes" } else { "no" };
            let (pid, since) = match s.running {
                Some((pid, since)) => (pid.to_string(), since.to_string()),
                None => ("-".to_string(), "-".to_string()),
            };
            let _ = writeln!(
                text,
                "script {} up {up} reported {reported} against {} pid {pid} started {since} next {}",
                s.name, h.against, s.next_run
            );
        }
        for g in &self.groups {
            let state = g.state.map_or("-".to_string(), |s| s.to_string());
            let _ = writeln!(text, "group {} state {state}", g.name);
        }
        for v in &self.vmacs {
            let own = if v.own { "yes" } else { "no" };
            let _ = writeln!(
                text,
                "vmac {} parent {} own {own} name {}",
                v.instance, v.parent, v.name
            );
        }
        // A queued command's `since` is when it was queued; the queue
        // keeps when its wait ends (see `NotifyQueue`).
        for n in &self.notify {
            let (kind, name) = n.owner.kind_and_name();
            let owner = format!("{} owner {kind}", escape(name));
            for w in &n.queue.waiting {
                let c = &w.command;
                let user = c.run_as.as_ref().map(|r| r.user.as_str());
                let group = c.run_as.as_ref().and_then(|r| r.group.as_deref());
                let argv: Vec<String> = c.argv.iter().map(|a| escape(a)).collect();
                let _ = writeln!(
                    text,
                    "notify {owner} transition {} since {} user {} group {} file {} line {} argv {}",
                    w.transition,
                    w.give_up_at.saturating_sub(NOTIFY_MAX_WAIT),
                    user.map_or("-".to_string(), escape),
                    group.map_or("-".to_string(), escape),
                    escape(&c.span.file.to_string_lossy()),
                    c.span.line,
                    argv.join(",")
                );
            }
            for r in &n.queue.running {
                let _ = writeln!(
                    text,
                    "notify_running {owner} pid {} deadline {} set_aside {}",
                    r.pid,
                    r.deadline,
                    if r.set_aside { "yes" } else { "no" }
                );
            }
        }
        for line in &self.fifo_lines {
            let _ = writeln!(text, "fifo {}", escape(line));
        }
        text.push_str("end\n");
        text
    }

    /// Parses a file `render` wrote; the error names the line and what
    /// was expected there. A file cut short (no `end`) is refused.
    pub fn parse(text: &str) -> Result<RestartState, String> {
        let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l));
        let mut next = |what: &str| {
            lines
                .next()
                .ok_or_else(|| format!("ends before {what}"))
                .map(|(n, l)| (n, l.split(' ').collect::<Vec<&str>>()))
        };
        let (n, words) = next("the header")?;
        let version = match words.as_slice() {
            [MAGIC, version] => match version.parse::<u32>() {
                Ok(v) if (OLDEST_VERSION_READ..=FORMAT_VERSION).contains(&v) => v,
                _ => {
                    return Err(format!(
                        "line {n}: format version {version}, this keepvip reads \
                         {OLDEST_VERSION_READ} to {FORMAT_VERSION}"
                    ))
                }
            },
            _ => return Err(format!("line {n}: expected \"{MAGIC} {FORMAT_VERSION}\"")),
        };
        let boot_id = single(next("boot_id")?, "boot_id")?.to_string();
        let (n, words) = next("config_digest")?;
        let config_digest = u32::from_str_radix(single((n, words), "config_digest")?, 16)
            .map_err(|_| format!("line {n}: config_digest: expected 8 hex digits"))?;
        let (n, words) = next("written_us")?;
        let written_us = number(n, "written_us", single((n, words), "written_us")?)?;
        let rp_filter_all = if version == 1 {
            None
        } else {
            let (n, words) = next("rp_filter_all")?;
            optional(n, "rp_filter_all", single((n, words), "rp_filter_all")?)?
        };
        let mut state = RestartState {
            boot_id,
            config_digest,
            written_us,
            rp_filter_all,
            instances: Vec::new(),
            scripts: Vec::new(),
            groups: Vec::new(),
            notify: Vec::new(),
            fifo_lines: Vec::new(),
            vmacs: Vec::new(),
        };
        loop {
            let (n, words) = next("end")?;
            match words.first().copied() {
                Some("end") if words.len() == 1 => return Ok(state),
                Some("instance") => state.instances.push(parse_instance(n, &words, version)?),
                Some("script") => state.scripts.push(parse_script(n, &words)?),
                Some("group") => state.groups.push(parse_group(n, &words)?),
                Some("vmac") if version > 1 => state.vmacs.push(parse_vmac(n, &words)?),
                Some("notify") if version > 1 => {
                    let (owner, command) = parse_notify(n, &words)?;
                    state.notify_queue(owner).waiting.push(command);
                }
                Some("notify_running") if version > 1 => {
                    let (owner, run) = parse_notify_running(n, &words)?;
                    state.notify_queue(owner).running.push(run);
                }
                Some("fifo") if version > 1 && words.len() == 2 => {
                    state.fifo_lines.push(unescape(n, words[1])?);
                }
                _ => {
                    return Err(format!(
                        "line {n}: expected instance, script, group, vmac, notify, fifo or end"
                    ))
                }
            }
        }
    }

    pub fn instance(&self, name: &str) -> Option<&SavedInstance> {
        self.instances.iter().find(|i| i.name == name)
    }

    fn notify_queue(&mut self, owner: NotifyOwner) -> &mut CarriedQueue<Command> {
        let at = match self.notify.iter().position(|n| n.owner == owner) {
            Some(at) => at,
            None => {
                self.notify.push(SavedNotify {
                    owner,
                    queue: CarriedQueue {
                        waiting: Vec::new(),
                        running: Vec::new(),
                    },
                });
                self.notify.len() - 1
            }
        };
        &mut self.notify[at].queue
    }
}

/// A word that may hold anything, as one word of the file: see the module
/// comment.
fn escape(word: &str) -> String {
    if word == "-" {
        return "%2D".to_string();
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            ' ' | '\t' | '\n' | '\r' | '%' | ',' => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn unescape(n: usize, word: &str) -> Result<String, String> {
    let bad = || format!("line {n}: {word:?} is not an escaped word");
    let mut bytes = Vec::with_capacity(word.len());
    let mut rest = word.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| bad())
}

fn time(t: Option<Micros>) -> String {
    t.map_or("-".to_string(), |t| t.to_string())
}

fn single<'a>((n, words): (usize, Vec<&'a str>), key: &str) -> Result<&'a str, String> {
    match words.as_slice() {
        [k, value] if *k == key => Ok(value),
        _ => Err(format!("line {n}: expected \"{key} VALUE\"")),
    }
}

fn number<T: std::str::FromStr>(n: usize, key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("line {n}: {key}: {value:?} is not a number in range"))
}

/// `KIND NAME key value key value ...` with exactly `keys`, in order.
fn pairs<'a>(n: usize, words: &[&'a str], keys: &[&str]) -> Result<(String, Vec<&'a str>), String> {
    let expected = || {
        format!(
            "line {n}: expected \"{} NAME {}\"",
            words.first().copied().unwrap_or_default(),
            keys.iter()
                .map(|k| format!("{k} V"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    if words.len() != 2 + 2 * keys.len() || words[1].is_empty() {
        return Err(expected());
    }
    let mut values = Vec::new();
    for (pair, key) in words[2..].chunks(2).zip(keys) {
        if pair[0] != *key {
            return Err(expected());
        }
        values.push(pair[1]);
    }
    Ok((words[1].to_string(), values))
}

fn parse_state(n: usize, word: &str) -> Result<State, String> {
    Ok(match word {
        "INIT" => State::Initialize,
        "BACKUP" => State::Backup,
        "MASTER" => State::Master,
        "FAULT" => State::Fault,
        "STOP" => State::Stopped,
        other => return Err(format!("line {n}: {other:?} is not a state")),
    })
}

fn parse_time(n: usize, key: &str, word: &str) -> Result<Option<Micros>, String> {
    optional(n, key, word)
}

/// A number, or `-` for none.
fn optional<T: std::str::FromStr>(n: usize, key: &str, word: &str) -> Result<Option<T>, String> {
    if word == "-" {
        return Ok(None);
    }
    number(n, key, word).map(Some)
}

fn parse_instance(n: usize, words: &[&str], version: u32) -> Result<SavedInstance, String> {
    let keys = [
        "state",
        "priority",
        "master_interval_cs",
        "advert",
        "master_down",
        "garp_repeat",
        "garp_refresh",
        "ah_sequence",
        "preempt_allowed_at",
    ];
    // Version 1 ends at ah_sequence.
    let known = if version == 1 { 8 } else { keys.len() };
    let (name, v) = pairs(n, words, &keys[..known])?;
    Ok(SavedInstance {
        name,
        snapshot: Snapshot {
            state: parse_state(n, v[0])?,
            priority: number(n, keys[1], v[1])?,
            master_interval_cs: number(n, keys[2], v[2])?,
            advert: parse_time(n, keys[3], v[3])?,
            master_down: parse_time(n, keys[4], v[4])?,
            garp_repeat: parse_time(n, keys[5], v[5])?,
            garp_refresh: parse_time(n, keys[6], v[6])?,
            preempt_allowed_at: match v.get(8) {
                Some(word) => parse_time(n, keys[8], word)?,
                None => None,
            },
        },
        ah_sequence: number(n, keys[7], v[7])?,
    })
}

fn parse_script(n: usize, words: &[&str]) -> Result<SavedScript, String> {
    let (name, v) = pairs(
        n,
        words,
        &["up", "reported", "against", "pid", "started", "next"],
    )?;
    let yes_no = |word: &str| match word {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!("line {n}: expected yes or no, not {other:?}")),
    };
    let up = match v[0] {
        "-" => None,
        word => Some(yes_no(word)?),
    };
    Ok(SavedScript {
        name,
        health: HealthReading {
            up,
            reported: yes_no(v[1])?,
            against: number(n, "against", v[2])?,
        },
        running: match (v[3], parse_time(n, "started", v[4])?) {
            ("-", None) => None,
            (pid, Some(since)) => Some((number(n, "pid", pid)?, since)),
            _ => return Err(format!("line {n}: a pid needs its start time")),
        },
        next_run: number(n, "next", v[5])?,
    })
}

fn parse_vmac(n: usize, words: &[&str]) -> Result<KeptVmac, String> {
    let (instance, v) = pairs(n, words, &["parent", "own", "name"])?;
    let own = match v[1] {
        "yes" => true,
        "no" => false,
        _ => return Err(format!("line {n}: own: expected yes or no")),
    };
    Ok(KeptVmac {
        instance,
        parent: v[0].to_string(),
        own,
        name: v[2].to_string(),
    })
}

fn parse_group(n: usize, words: &[&str]) -> Result<SavedGroup, String> {
    let (name, v) = pairs(n, words, &["state"])?;
    let state = match v[0] {
        "-" => None,
        word => Some(parse_state(n, word)?),
    };
    Ok(SavedGroup { name, state })
}

fn parse_owner(n: usize, name: &str, kind: &str) -> Result<NotifyOwner, String> {
    let name = unescape(n, name)?;
    Ok(match kind {
        "instance" => NotifyOwner::Instance(name),
        "group" => NotifyOwner::Group(name),
        "departed" => NotifyOwner::Departed(name),
        other => {
            return Err(format!(
                "line {n}: owner {other:?}: expected instance, group or departed"
            ))
        }
    })
}

fn parse_notify(
    n: usize,
    words: &[&str],
) -> Result<(NotifyOwner, CarriedCommand<Command>), String> {
    let keys = [
        "owner",
        "transition",
        "since",
        "user",
        "group",
        "file",
        "line",
        "argv",
    ];
    let (name, v) = pairs(n, words, &keys)?;
    let owner = parse_owner(n, &name, v[0])?;
    let optional_word = |word: &str| match word {
        "-" => Ok(None),
        word => unescape(n, word).map(Some),
    };
    let run_as = match (optional_word(v[3])?, optional_word(v[4])?) {
        (Some(user), group) => Some(RunAs { user, group }),
        (None, None) => None,
        (None, Some(_)) => return Err(format!("line {n}: a group needs its user")),
    };
    let argv = v[7]
        .split(',')
        .map(|word| unescape(n, word))
        .collect::<Result<Vec<String>, String>>()?;
    let command = Command {
        argv,
        run_as,
        span: Span {
            file: std::rc::Rc::new(unescape(n, v[5])?.into()),
            line: number(n, keys[6], v[6])?,
        },
    };
    Ok((
        owner,
        CarriedCommand {
            transition: number(n, keys[1], v[1])?,
            give_up_at: number::<Micros>(n, keys[2], v[2])?.saturating_add(NOTIFY_MAX_WAIT),
            command,
        },
    ))
}

fn parse_notify_running(n: usize, words: &[&str]) -> Result<(NotifyOwner, CarriedRun), String> {
    let (name, v) = pairs(n, words, &["owner", "pid", "deadline", "set_aside"])?;
    let set_aside = match v[3] {
        "yes" => true,
        "no" => false,
        other => return Err(format!("line {n}: expected yes or no, not {other:?}")),
    };
    Ok((
        parse_owner(n, &name, v[0])?,
        CarriedRun {
            pid: number(n, "pid", v[1])?,
            deadline: number(n, "deadline", v[2])?,
            set_aside,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> RestartState {
        RestartState {
            boot_id: "0f6c1e2a-5b7d-4c4e-9a51-2b1f8c7d6e5f".into(),
            config_digest: 0x1a2b_3c4d,
            written_us: 5_000_000,
            rp_filter_all: Some(2),
            instances: vec![
                SavedInstance {
                    name: "VI_1".into(),
                    snapshot: Snapshot {
                        state: State::Master,
                        priority: 150,
                        master_interval_cs: 100,
                        advert: Some(5_400_000),
                        master_down: None,
                        garp_repeat: Some(7_000_000),
                        garp_refresh: None,
                        preempt_allowed_at: None,
                    },
                    ah_sequence: 42,
                },
                SavedInstance {
                    name: "VI_2".into(),
                    snapshot: Snapshot {
                        state: State::Backup,
                        priority: 90,
                        master_interval_cs: 10,
                        advert: None,
                        master_down: Some(5_300_000),
                        garp_repeat: None,
                        garp_refresh: None,
                        preempt_allowed_at: Some(9_000_000),
                    },
                    ah_sequence: 0,
                },
            ],
            scripts: vec![
                SavedScript {
                    name: "chk".into(),
                    health: HealthReading {
                        up: Some(true),
                        reported: true,
                        against: 2,
                    },
                    running: Some((4321, 4_900_000)),
                    next_run: 6_000_000,
                },
                SavedScript {
                    name: "slow".into(),
                    health: HealthReading {
                        up: None,
                        reported: false,
                        against: 0,
                    },
                    running: None,
                    next_run: 5_500_000,
                },
            ],
            groups: vec![
                SavedGroup {
                    name: "G1".into(),
                    state: Some(State::Master),
                },
                SavedGroup {
                    name: "G2".into(),
                    state: None,
                },
            ],
            notify: vec![
                SavedNotify {
                    owner: NotifyOwner::Instance("VI_1".into()),
                    queue: CarriedQueue {
                        waiting: vec![
                            queued(3, "/etc/keepalived/to backup.sh", None),
                            queued(3, "/bin/sh", Some(("nobody", None))),
                            queued(4, "-", Some(("nobody", Some("no group")))),
                        ],
                        running: vec![CarriedRun {
                            pid: 4400,
                            deadline: 34_000_000,
                            set_aside: false,
                        }],
                    },
                },
                SavedNotify {
                    owner: NotifyOwner::Departed("group G9".into()),
                    queue: CarriedQueue {
                        waiting: Vec::new(),
                        running: vec![CarriedRun {
                            pid: 4401,
                            deadline: 33_000_000,
                            set_aside: true,
                        }],
                    },
                },
            ],
            fifo_lines: vec!["INSTANCE \"VI_9\" FAULT 150\n".into()],
            vmacs: vec![
                KeptVmac {
                    instance: "VI_1".into(),
                    parent: "eth0".into(),
                    own: true,
                    name: "vrrp1.51".into(),
                },
                KeptVmac {
                    instance: "VI_2".into(),
                    parent: "eth1".into(),
                    own: false,
                    name: "vrrp.52".into(),
                },
            ],
        }
    }

    /// A queued notify command whose arguments need escaping.
    fn queued(
        transition: u64,
        program: &str,
        run_as: Option<(&str, Option<&str>)>,
    ) -> CarriedCommand<Command> {
        CarriedCommand {
            transition,
            give_up_at: 6_800_000,
            command: Command {
                argv: vec![
                    program.into(),
                    "-c".into(),
                    "echo 100%, \"$*\"\n\tdone".into(),
                    String::new(),
                    "-".into(),
                    "BACKUP".into(),
                ],
                run_as: run_as.map(|(user, group)| RunAs {
                    user: user.into(),
                    group: group.map(Into::into),
                }),
                span: Span {
                    file: std::rc::Rc::new("/etc/keepalived/key path.conf".into()),
                    line: 12,
                },
            },
        }
    }

    #[test]
    fn what_is_rendered_parses_back_the_same() {
        let state = example();
        let text = state.render();
        assert!(text.starts_with("keepvip-restart-state 2\n"));
        assert!(text.contains(
            "instance VI_1 state MASTER priority 150 master_interval_cs 100 advert 5400000 \
             master_down - garp_repeat 7000000 garp_refresh - ah_sequence 42 \
             preempt_allowed_at -\n"
        ));
        assert!(text.contains(" ah_sequence 0 preempt_allowed_at 9000000\n"));
        assert!(text.contains("\nwritten_us 5000000\nrp_filter_all 2\ninstance VI_1 "));
        let untouched = RestartState {
            rp_filter_all: None,
            ..state.clone()
        };
        let text_untouched = untouched.render();
        assert!(text_untouched.contains("\nrp_filter_all -\n"));
        assert_eq!(RestartState::parse(&text_untouched), Ok(untouched));
        // One line per command, whatever its arguments hold.
        assert_eq!(text.matches("\nnotify ").count(), 3, "{text}");
        assert_eq!(text.matches("\nnotify_running ").count(), 2, "{text}");
        assert!(text.ends_with("\nfifo INSTANCE%20\"VI_9\"%20FAULT%20150%0A\nend\n"));
        assert!(text.contains("\nvmac VI_1 parent eth0 own yes name vrrp1.51\n"));
        assert_eq!(RestartState::parse(&text), Ok(state));
    }

    /// `vmac` lines came within version 2: a file from before them is
    /// read as it was, with no names to keep.
    #[test]
    fn a_version_2_file_without_vmac_lines_keeps_no_names() {
        let state = example();
        let text: String = state
            .render()
            .lines()
            .filter(|l| !l.starts_with("vmac "))
            .map(|l| format!("{l}\n"))
            .collect();
        let read = RestartState::parse(&text).unwrap();
        assert!(read.vmacs.is_empty());
        assert_eq!(read.instances, state.instances);
        let bad = state.render().replace("own yes", "own maybe");
        assert!(RestartState::parse(&bad)
            .unwrap_err()
            .contains("own: expected yes or no"));
    }

    #[test]
    fn a_file_cut_short_or_of_another_version_is_refused() {
        let text = example().render();
        let cut = &text[..text.len() - "end\n".len()];
        assert!(RestartState::parse(cut)
            .unwrap_err()
            .contains("ends before end"));
        let half = &text[..text.find("priority 90").unwrap()];
        assert!(RestartState::parse(half).is_err());
        let other = text.replacen("keepvip-restart-state 2", "keepvip-restart-state 3", 1);
        assert!(RestartState::parse(&other)
            .unwrap_err()
            .contains("format version 3"));
        // A version 1 file has no room for what version 2 added.
        let mislabelled = text.replacen("keepvip-restart-state 2", "keepvip-restart-state 1", 1);
        assert!(RestartState::parse(&mislabelled)
            .unwrap_err()
            .starts_with("line 5:"));
        assert!(RestartState::parse("").is_err());
    }

    /// What an image before version 2 wrote, for an upgrade from it.
    const VERSION_1: &str = "keepvip-restart-state 1
boot_id 0f6c1e2a-5b7d-4c4e-9a51-2b1f8c7d6e5f
config_digest 1a2b3c4d
written_us 5000000
instance VI_2 state BACKUP priority 90 master_interval_cs 10 advert - master_down 5300000 garp_repeat - garp_refresh - ah_sequence 0
group G1 state MASTER
end
";

    #[test]
    fn a_version_1_file_is_still_read_without_what_version_2_added() {
        let state = RestartState::parse(VERSION_1).unwrap();
        let backup = &state.instance("VI_2").unwrap().snapshot;
        assert_eq!(backup.master_down, Some(5_300_000));
        assert_eq!(backup.preempt_allowed_at, None);
        // Not known: the new image reads net.ipv4.conf.all.rp_filter as
        // it finds it (see `daemon::vmac`).
        assert_eq!(state.rp_filter_all, None);
        assert_eq!(state.groups.len(), 1);
        // Its notify commands not started yet were lost with it.
        assert!(state.notify.is_empty());
        assert!(state.fifo_lines.is_empty());
    }

    #[test]
    fn a_bad_line_is_named_with_what_was_expected() {
        let text = example().render();
        let bad = text.replace("priority 150", "priority 300");
        assert_eq!(
            RestartState::parse(&bad).unwrap_err(),
            "line 6: priority: \"300\" is not a number in range"
        );
        let bad = text.replace("state MASTER priority", "state LEADER priority");
        assert!(RestartState::parse(&bad)
            .unwrap_err()
            .starts_with("line 6:"));
        let bad = text.replace("group G2 state -", "group G2");
        assert_eq!(
            RestartState::parse(&bad).unwrap_err(),
            "line 11: expected \"group NAME state V\""
        );
        let bad = text.replace("config_digest 1a2b3c4d", "config_digest xyz");
        assert!(RestartState::parse(&bad)
            .unwrap_err()
            .starts_with("line 3:"));
    }

    #[test]
    fn another_boot_or_config_is_not_trusted() {
        let state = example();
        let boot = state.boot_id.clone();
        assert_eq!(state.trust(&boot, 0x1a2b_3c4d, 5_100_000), Ok(()));
        assert_eq!(
            state.trust("another", 0x1a2b_3c4d, 5_100_000),
            Err(Distrust::OtherBoot)
        );
        assert_eq!(
            state.trust(&boot, 0xdead_beef, 5_100_000),
            Err(Distrust::OtherConfig {
                saved: 0x1a2b_3c4d,
                running: 0xdead_beef
            })
        );
        assert_eq!(
            state.trust(&boot, 0x1a2b_3c4d, 4_000_000),
            Err(Distrust::FromTheFuture)
        );
    }

    #[test]
    fn state_older_than_master_down_is_too_old() {
        let state = example();
        // master_down of a v3 backup at 1 s: 3.6 s.
        assert!(!state.too_old_for(5_000_000 + 3_599_999, 3_600_000));
        assert!(state.too_old_for(5_000_000 + 3_600_000, 3_600_000));
    }
}
