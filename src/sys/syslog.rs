//! The syslog socket (`/dev/log`): one datagram per line, in the format
//! glibc's syslog(3) sends (`<PRI>Mmm dd hh:mm:ss tag[pid]: message`), so
//! rsyslog, syslog-ng, busybox syslogd, OpenWrt's logd and journald all take
//! it as they take keepalived's lines.
//!
//! It never blocks: the socket is non-blocking, and a line the log daemon
//! has no room for (or a log daemon that is gone) is dropped and counted.
//! A VRRP daemon that waits for a slow syslogd misses its adverts, and the
//! VIP moves; a lost log line moves nothing. The count is reported in the
//! next line that gets through, and in the SIGUSR2 statistics.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where syslog(3) writes.
pub const DEV_LOG: &str = "/dev/log";

/// Longer lines are cut: some syslog daemons drop a datagram larger than
/// their buffer whole (busybox syslogd reads at most about 1 KiB).
const MAX_MESSAGE: usize = 1024;

/// Every line dropped since start, by every writer.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Lines dropped since the daemon started (socket full, or no log daemon).
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// syslog facility codes (the facility part of the priority).
pub const LOG_USER: u8 = 1;
pub const LOG_DAEMON: u8 = 3;
const LOG_LOCAL0: u8 = 16;

/// keepalived's `-S`: `0`..`7` (local0..local7), `local0`..`local7`,
/// `user` or `daemon`.
pub fn parse_facility(text: &str) -> Option<u8> {
    let local = |n: &str| {
        n.parse::<u8>()
            .ok()
            .filter(|n| *n <= 7)
            .map(|n| LOG_LOCAL0 + n)
    };
    match text {
        "user" => Some(LOG_USER),
        "daemon" => Some(LOG_DAEMON),
        _ => text
            .strip_prefix("local")
            .map_or_else(|| local(text), local),
    }
}

/// syslog severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error = 3,
    Warning = 4,
    Info = 6,
    Debug = 7,
}

pub struct Syslog {
    path: PathBuf,
    socket: Option<OwnedFd>,
    facility: u8,
    tag: String,
    /// Lines lost since the last one that got through.
    unreported: u64,
}

impl Syslog {
    /// Connects to the syslog socket at `path`. Err when there is none:
    /// the caller decides where to log instead.
    pub fn connect(path: &Path, facility: u8, tag: &str) -> io::Result<Syslog> {
        let socket = open(path)?;
        Ok(Syslog {
            path: path.to_path_buf(),
            socket: Some(socket),
            facility,
            tag: format!("{tag}[{}]", std::process::id()),
            unreported: 0,
        })
    }

    /// Sends one line; drops and counts it when it cannot go now.
    pub fn send(&mut self, severity: Severity, message: &str) {
        if self.unreported > 0 {
            let note = format!(
                "{} log lines dropped (syslog socket full or gone)",
                self.unreported
            );
            if self.try_send(Severity::Warning, &note) {
                self.unreported = 0;
            }
        }
        if !self.try_send(severity, message) {
            self.unreported += 1;
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn try_send(&mut self, severity: Severity, message: &str) -> bool {
        let datagram = self.format(severity, message);
        match self.write(&datagram) {
            Ok(()) => true,
            // The log daemon restarted (its socket is a new one): connect
            // again, once per line at most.
            Err(e) if is_disconnected(&e) => {
                self.socket = open(&self.path).ok();
                self.write(&datagram).is_ok()
            }
            Err(_) => false,
        }
    }

    fn write(&self, datagram: &[u8]) -> io::Result<()> {
        let Some(socket) = &self.socket else {
            return Err(io::Error::from_raw_os_error(libc::ENOTCONN));
        };
        // SAFETY: send on our own descriptor with a valid buffer.
        let sent = unsafe {
            libc::send(
                socket.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn format(&self, severity: Severity, message: &str) -> Vec<u8> {
        let priority = u32::from(self.facility) * 8 + severity as u32;
        let mut line = format!("<{priority}>{} {}: ", timestamp(), self.tag);
        let mut end = message.len().min(MAX_MESSAGE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        // One datagram is one line: a newline inside would look like a
        // second line without a header to some syslog daemons.
        line.extend(
            message[..end]
                .chars()
                .map(|c| if c == '\n' { ' ' } else { c }),
        );
        line.into_bytes()
    }
}

fn is_disconnected(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNREFUSED | libc::ENOTCONN | libc::ENOENT | libc::EPIPE)
    )
}

/// A non-blocking datagram socket connected to `path`.
fn open(path: &Path) -> io::Result<OwnedFd> {
    let bytes = path.as_os_str().as_encoded_bytes();
    // SAFETY: sockaddr_un is plain data.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() || CString::new(bytes).is_err() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "syslog socket path too long",
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (slot, byte) in addr.sun_path.iter_mut().zip(bytes) {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: plain socket(2) call.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by socket(2) and is ours alone.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: addr is a valid sockaddr_un of the size given.
    let rc = unsafe {
        libc::connect(
            socket.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

/// `Mmm dd hh:mm:ss` in local time, as syslog(3) writes it.
fn timestamp() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // SAFETY: time(NULL) and localtime_r with a valid pointer to a local.
    let tm = unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        tm
    };
    let month = MONTHS
        .get(usize::try_from(tm.tm_mon).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{month} {:2} {:02}:{:02}:{:02}",
        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::time::{Duration, Instant};

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("keepvip-syslog-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn facilities_are_keepalived_s_dash_s_values() {
        assert_eq!(parse_facility("daemon"), Some(3));
        assert_eq!(parse_facility("user"), Some(1));
        assert_eq!(parse_facility("0"), Some(16));
        assert_eq!(parse_facility("7"), Some(23));
        assert_eq!(parse_facility("local3"), Some(19));
        assert_eq!(parse_facility("8"), None);
        assert_eq!(parse_facility("local8"), None);
        assert_eq!(parse_facility("kern"), None);
    }

    #[test]
    fn sends_one_syslog3_datagram_per_line() {
        let dir = scratch("format");
        let path = dir.join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut log = Syslog::connect(&path, parse_facility("local1").unwrap(), "keepvip").unwrap();
        log.send(Severity::Warning, "two\nlines");
        let mut buf = [0u8; 2048];
        let n = server.recv(&mut buf).unwrap();
        let line = String::from_utf8_lossy(&buf[..n]).into_owned();
        let _ = std::fs::remove_dir_all(&dir);
        // local1 (17) * 8 + warning (4)
        assert!(line.starts_with("<140>"), "{line}");
        let header = format!(": keepvip[{}]: two lines", std::process::id());
        assert!(line.ends_with(&header[1..]), "{line}");
        // `<140>Nov 30 10:07:44 keepvip[..]`: the timestamp is 15 bytes.
        assert_eq!(&line[5 + 15..5 + 16], " ", "{line}");
    }

    #[test]
    fn a_full_socket_drops_and_counts_instead_of_blocking() {
        let dir = scratch("full");
        let path = dir.join("log");
        // Bound and never read: its queue fills after a few lines.
        let server = UnixDatagram::bind(&path).unwrap();
        let mut log = Syslog::connect(&path, LOG_DAEMON, "keepvip").unwrap();
        let before = dropped();
        let started = Instant::now();
        for i in 0..5_000 {
            log.send(Severity::Info, &format!("line {i}"));
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "took {took:?}");
        assert!(dropped() > before, "nothing counted as dropped");
        assert!(log.unreported > 0);
        // Room again: the next line is preceded by how many were lost.
        let mut buf = [0u8; 2048];
        server.set_nonblocking(true).unwrap();
        while server.recv(&mut buf).is_ok() {}
        log.send(Severity::Info, "back");
        server.set_nonblocking(false).unwrap();
        let n = server.recv(&mut buf).unwrap();
        let note = String::from_utf8_lossy(&buf[..n]).into_owned();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(note.contains("log lines dropped"), "{note}");
        assert!(note.starts_with("<28>"), "{note}");
        assert_eq!(log.unreported, 0);
    }

    #[test]
    fn a_restarted_log_daemon_is_found_again() {
        let dir = scratch("restart");
        let path = dir.join("log");
        let first = UnixDatagram::bind(&path).unwrap();
        let mut log = Syslog::connect(&path, LOG_DAEMON, "keepvip").unwrap();
        drop(first);
        std::fs::remove_file(&path).unwrap();
        log.send(Severity::Info, "lost");
        let second = UnixDatagram::bind(&path).unwrap();
        log.send(Severity::Info, "found");
        let mut buf = [0u8; 2048];
        let n = second.recv(&mut buf).unwrap();
        let first_line = String::from_utf8_lossy(&buf[..n]).into_owned();
        let n = second.recv(&mut buf).unwrap();
        let second_line = String::from_utf8_lossy(&buf[..n]).into_owned();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(first_line.contains("1 log lines dropped"), "{first_line}");
        assert!(second_line.ends_with("found"), "{second_line}");
    }
}
