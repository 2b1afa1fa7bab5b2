//! Where the daemon's log lines go, as keepalived users expect them: syslog
//! (facility daemon, `-S` another) by default; the console with `-l`; and,
//! under a service manager that reads our stderr into its journal (systemd
//! with `-n`), stderr with the severity as a `<N>` prefix, so that the
//! journal has each line once, with its level and the unit's name.

use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::sys::syslog::{self, Severity, Syslog};

/// Tests point the daemon at a socket of their own instead of /dev/log.
pub const DEV_LOG_ENV: &str = "KEEPVIP_DEV_LOG";

/// What the command line and the environment say about logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Request {
    /// `-l`: to the console.
    pub console: bool,
    /// `-G`: not to syslog.
    pub no_syslog: bool,
    /// `-n`: in the foreground of whoever started us.
    pub dont_fork: bool,
    /// stderr is a journal stream (systemd's JOURNAL_STREAM names it).
    pub stderr_is_journal: bool,
    /// `-t`: a person (or ExecReload) reads the answer on stderr.
    pub config_test: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Syslog,
    /// stderr, each line `keepvip[pid]: WARNING: ...`.
    Console,
    /// stderr, each line `<4>...`: journald reads the prefix as the level.
    Journal,
}

/// The one rule of where lines go.
pub fn destination(request: Request) -> Destination {
    if request.stderr_is_journal && (request.dont_fork || request.console || request.config_test) {
        Destination::Journal
    } else if request.console || request.no_syslog || request.config_test {
        Destination::Console
    } else {
        Destination::Syslog
    }
}

/// Whether stderr is the stream systemd gave us for the journal: it says
/// so in JOURNAL_STREAM (`device:inode`), which a child whose stderr was
/// redirected also inherits, hence the comparison.
pub fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let stream = stream.to_string_lossy();
    let Some((dev, ino)) = stream.split_once(':') else {
        return false;
    };
    // SAFETY: fstat on stderr into a local.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(std::io::stderr().as_raw_fd(), &mut st) } != 0 {
        return false;
    }
    dev.parse::<u64>().ok() == Some(st.st_dev) && ino.parse::<u64>().ok() == Some(st.st_ino)
}

struct Logger {
    level: LevelFilter,
    destination: Destination,
    syslog: Option<Mutex<Syslog>>,
}

/// Installs the logger. A syslog that cannot be reached (no log daemon,
/// as in many containers) falls back to the console, and says so there.
pub fn init(request: Request, facility: u8, level: LevelFilter) {
    let mut destination = destination(request);
    let mut syslog = None;
    if destination == Destination::Syslog {
        let path = std::env::var_os(DEV_LOG_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(syslog::DEV_LOG));
        match Syslog::connect(&path, facility, "keepvip") {
            Ok(s) => syslog = Some(Mutex::new(s)),
            Err(e) => {
                destination = Destination::Console;
                let _ = writeln!(
                    std::io::stderr(),
                    "keepvip[{}]: WARNING: syslog {}: {e}; logging to stderr",
                    std::process::id(),
                    path.display()
                );
            }
        }
    }
    let logger = Logger {
        level,
        destination,
        syslog,
    };
    // Leaked: the logger lives as long as the process.
    if log::set_logger(Box::leak(Box::new(logger))).is_ok() {
        log::set_max_level(level);
    }
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Error => Severity::Error,
        Level::Warn => Severity::Warning,
        Level::Info => Severity::Info,
        Level::Debug | Level::Trace => Severity::Debug,
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        match self.destination {
            Destination::Syslog => {
                if let Some(syslog) = &self.syslog {
                    let message = record.args().to_string();
                    if let Ok(mut syslog) = syslog.lock() {
                        syslog.send(severity(record.level()), &message);
                    }
                }
            }
            Destination::Journal => {
                let line = format!("<{}>{}\n", severity(record.level()) as u8, record.args());
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            Destination::Console => {
                let level = match record.level() {
                    Level::Info => "",
                    Level::Warn => "WARNING: ",
                    Level::Error => "ERROR: ",
                    Level::Debug | Level::Trace => "debug: ",
                };
                let line = format!(
                    "keepvip[{}]: {level}{}\n",
                    std::process::id(),
                    record.args()
                );
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_unless_the_command_line_or_the_journal_says_otherwise() {
        let plain = Request::default();
        assert_eq!(destination(plain), Destination::Syslog);
        // keepalived's init scripts run `keepalived -n` or nothing.
        let foreground = Request {
            dont_fork: true,
            ..plain
        };
        assert_eq!(destination(foreground), Destination::Syslog);
        let console = Request {
            console: true,
            dont_fork: true,
            ..plain
        };
        assert_eq!(destination(console), Destination::Console);
        let no_syslog = Request {
            no_syslog: true,
            ..plain
        };
        assert_eq!(destination(no_syslog), Destination::Console);
        let config_test = Request {
            config_test: true,
            ..plain
        };
        assert_eq!(destination(config_test), Destination::Console);
        // ExecReload's `keepvip -t`: its verdict in the journal, once.
        let reload_check = Request {
            config_test: true,
            stderr_is_journal: true,
            ..plain
        };
        assert_eq!(destination(reload_check), Destination::Journal);
        // systemd reads stderr: once, with levels, not twice.
        let unit = Request {
            dont_fork: true,
            stderr_is_journal: true,
            ..plain
        };
        assert_eq!(destination(unit), Destination::Journal);
        let unit_with_l = Request {
            console: true,
            stderr_is_journal: true,
            ..plain
        };
        assert_eq!(destination(unit_with_l), Destination::Journal);
        // A journal stream without -n or -l: keepalived's habit, syslog.
        let journal_only = Request {
            stderr_is_journal: true,
            ..plain
        };
        assert_eq!(destination(journal_only), Destination::Syslog);
    }
}
