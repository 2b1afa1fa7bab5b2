//! The status socket: a unix stream socket, root only (mode 0600), that
//! answers `status` (a table) or `json` with a snapshot and closes, and
//! takes `restart` (answered by the daemon, see `daemon::restart`). Each
//! client is served from the event loop without ever blocking it.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use log::{debug, warn};
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use super::status_report::{render_json, render_table, StatusReport};
use crate::vrrp::timers::{Micros, MICROS_PER_SECOND};

/// Where the daemon listens and `keepvip status` asks, unless told: in
/// the runtime directory, the one place systemd's `ProtectSystem=strict`
/// leaves writable under /run (`RuntimeDirectory=keepvip`), and the same
/// path under every init system.
pub const DEFAULT_PATH: &str = "/run/keepvip/keepvip.sock";
/// Where earlier keepvip daemons listened: the client still finds them.
const OLD_DEFAULT_PATH: &str = "/run/keepvip.sock";

/// The socket `keepvip status` asks without `--socket`: the default, or
/// the old default while only an older daemon's socket exists.
pub fn client_default_path() -> PathBuf {
    let path = Path::new(DEFAULT_PATH);
    let old = Path::new(OLD_DEFAULT_PATH);
    if !path.exists() && old.exists() {
        old.to_path_buf()
    } else {
        path.to_path_buf()
    }
}

/// Tokens for clients are taken from here up, far from the links' tokens.
const FIRST_CLIENT_TOKEN: usize = 1 << 30;
/// A client that has not asked within this time is dropped.
const CLIENT_TIMEOUT: Micros = 2 * MICROS_PER_SECOND;
/// Requests are one short word; anything longer is not a client of ours.
const MAX_REQUEST: usize = 64;

struct Client {
    stream: UnixStream,
    request: Vec<u8>,
    reply: Option<Vec<u8>>,
    written: usize,
    /// It asked `restart`: the daemon answers once it knows whether it can.
    restart_asked: bool,
    deadline: Micros,
}

pub struct StatusSocket {
    listener: UnixListener,
    path: PathBuf,
    clients: HashMap<Token, Client>,
    next_token: usize,
    /// The restart that made this image (see `daemon::restart`), for
    /// `keepvip restart` asking whether its restart happened.
    pub restarted_by: Option<u64>,
}

impl StatusSocket {
    /// Binds `path` (replacing a stale socket file, never a live one).
    pub fn bind(path: &Path, registry: &Registry, token: Token) -> io::Result<StatusSocket> {
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use by another running daemon", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        // Run by hand or by an init script, nobody made the runtime
        // directory for us (systemd does, from RuntimeDirectory=).
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new().mode(0o755).create(dir)?;
            }
        }
        let mut listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        registry.register(&mut listener, token, Interest::READABLE)?;
        Ok(StatusSocket {
            listener,
            path: path.to_path_buf(),
            clients: HashMap::new(),
            next_token: FIRST_CLIENT_TOKEN,
            restarted_by: None,
        })
    }

    pub fn owns(&self, token: Token) -> bool {
        self.clients.contains_key(&token)
    }

    /// Accepts every waiting client.
    pub fn accept(&mut self, registry: &Registry, now: Micros) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let token = Token(self.next_token);
                    self.next_token = self.next_token.wrapping_add(1).max(FIRST_CLIENT_TOKEN);
                    if registry
                        .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                        .is_ok()
                    {
                        self.clients.insert(
                            token,
                            Client {
                                stream,
                                request: Vec::new(),
                                reply: None,
                                written: 0,
                                restart_asked: false,
                                deadline: now + CLIENT_TIMEOUT,
                            },
                        );
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    warn!("status socket: accept: {e}");
                    return;
                }
            }
        }
    }

    /// Reads the client's request, answers it with `snapshot()`, writes as
    /// much as the socket takes; drops the client when done or broken.
    /// True when it asked for a restart: its answer is for [`Self::answer`].
    pub fn serve(
        &mut self,
        registry: &Registry,
        token: Token,
        snapshot: impl FnOnce() -> StatusReport,
    ) -> bool {
        let Some(client) = self.clients.get_mut(&token) else {
            return false;
        };
        if client.restart_asked {
            return false;
        }
        let restarted_by = self.restarted_by;
        let done = match client.progress(snapshot, restarted_by) {
            Ok(done) => done,
            Err(e) => {
                debug!("status client: {e}");
                true
            }
        };
        if done {
            if let Some(mut client) = self.clients.remove(&token) {
                let _ = registry.deregister(&mut client.stream);
            }
            return false;
        }
        self.clients
            .get(&token)
            .is_some_and(|client| client.restart_asked)
    }

    /// Answers a client that asked for a restart, at once and whole (a line
    /// into an empty socket buffer), and drops it: the answer must be out
    /// before the image that owes it is replaced.
    pub fn answer(&mut self, registry: &Registry, token: Token, text: &str) {
        if let Some(mut client) = self.clients.remove(&token) {
            if let Err(e) = client.stream.write_all(text.as_bytes()) {
                debug!("status client: {e}");
            }
            let _ = registry.deregister(&mut client.stream);
        }
    }

    /// Drops clients that never asked.
    pub fn expire(&mut self, registry: &Registry, now: Micros) {
        let stale: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(t, _)| *t)
            .collect();
        for token in stale {
            if let Some(mut client) = self.clients.remove(&token) {
                let _ = registry.deregister(&mut client.stream);
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Micros> {
        self.clients.values().map(|c| c.deadline).min()
    }
}

impl Drop for StatusSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Client {
    /// True when the client is finished with.
    fn progress(
        &mut self,
        snapshot: impl FnOnce() -> StatusReport,
        restarted_by: Option<u64>,
    ) -> io::Result<bool> {
        if self.reply.is_none() {
            let mut buf = [0u8; MAX_REQUEST];
            loop {
                match self.stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        self.request.extend_from_slice(&buf[..n]);
                        if self.request.contains(&b'\n') || self.request.len() >= MAX_REQUEST {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if !self.request.contains(&b'\n') {
                            return Ok(false);
                        }
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            let request = String::from_utf8_lossy(&self.request);
            let reply = match request.trim() {
                "status" | "" => render_table(&snapshot()),
                "json" => render_json(&snapshot()),
                RESTART_REQUEST => {
                    self.restart_asked = true;
                    return Ok(false);
                }
                // Whether this image is the one restart TOKEN made.
                other if other.starts_with(RESTARTED_REQUEST) => {
                    let asked = other[RESTARTED_REQUEST.len()..].trim().parse::<u64>().ok();
                    if asked.is_some() && asked == restarted_by {
                        "yes\n".to_string()
                    } else {
                        "no\n".to_string()
                    }
                }
                other => format!(
                    "unknown request {other:?}: ask \"status\", \"json\" or \"{RESTART_REQUEST}\"\n"
                ),
            };
            self.reply = Some(reply.into_bytes());
        }
        let reply = self.reply.as_deref().unwrap_or_default();
        while self.written < reply.len() {
            match self.stream.write(&reply[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// What `keepvip restart` asks, and the first word of a yes.
const RESTART_REQUEST: &str = "restart";
pub const RESTART_ACCEPTED: &str = "restarting";
const RESTARTED_REQUEST: &str = "restarted ";

/// The client side of `keepvip restart`: asks the daemon to restart, then
/// waits until the new image answers `status` (up to `wait`). Err says why
/// not, the daemon's own answer included: a daemon older than the verb
/// answers "unknown request" and goes on running.
pub fn restart(path: &Path, wait: std::time::Duration) -> io::Result<()> {
    let answer = ask(path, RESTART_REQUEST)?;
    if !answer.starts_with(RESTART_ACCEPTED) {
        // An older daemon does not know the verb: Unsupported, so that a
        // service manager can fall back to a stop and a start.
        let kind = if answer.starts_with("unknown request") {
            io::ErrorKind::Unsupported
        } else {
            io::ErrorKind::Other
        };
        return Err(io::Error::new(
            kind,
            format!("the daemon did not restart: {}", answer.trim()),
        ));
    }
    let token = answer[RESTART_ACCEPTED.len()..].trim().to_string();
    let deadline = std::time::Instant::now() + wait;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Until the old image's listener is gone and the new one answers;
        // the old one answering means it could not execute the new one.
        match ask(path, &format!("{RESTARTED_REQUEST}{token}")).as_deref() {
            Ok("yes\n") => return Ok(()),
            Ok("no\n") => {
                return Err(io::Error::other(
                    "the daemon could not execute the new binary and runs on as it was \
                     (see its log)",
                ))
            }
            _ => {}
        }
        if std::time::Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the daemon did not come back within {} s (see its log)",
                    wait.as_secs()
                ),
            ));
        }
    }
}

/// The client side, for `keepvip status`: asks and returns the answer.
pub fn query(path: &Path, json: bool) -> io::Result<String> {
    ask(path, if json { "json" } else { "status" })
}

fn ask(path: &Path, request: &str) -> io::Result<String> {
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{}: {e} (is keepvip running?)", path.display()),
        )
    })?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    stream.write_all(format!("{request}\n").as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_in_a_runtime_directory_it_makes_itself() {
        let base = std::env::temp_dir().join(format!("keepvip-status-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        // Like /run/keepvip/keepvip.sock on a host where no service
        // manager made /run/keepvip.
        let path = base.join("keepvip").join("keepvip.sock");
        let poll = mio::Poll::new().unwrap();
        let bound = StatusSocket::bind(&path, poll.registry(), Token(1));
        let made = std::fs::metadata(base.join("keepvip")).map(|m| m.permissions().mode());
        let _ = std::fs::remove_dir_all(&base);
        assert!(bound.is_ok(), "{:?}", bound.err());
        assert_eq!(made.unwrap() & 0o777, 0o755);
    }

    /// A daemon from before `keepvip restart` answers as it answers any
    /// unknown request, and runs on: the client says so with its own
    /// error kind (exit 3), for service managers to fall back on.
    #[test]
    fn an_older_daemon_refusing_restart_is_told_apart() {
        let dir = std::env::temp_dir().join(format!("keepvip-restart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let old_daemon = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 64];
            let n = stream.read(&mut request).unwrap();
            assert_eq!(&request[..n], b"restart\n");
            stream
                .write_all(b"unknown request \"restart\": ask \"status\" or \"json\"\n")
                .unwrap();
        });
        let refused = restart(&path, std::time::Duration::from_secs(1));
        old_daemon.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let e = refused.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        assert!(e.to_string().contains("unknown request"), "{e}");
    }

    #[test]
    fn the_default_lives_in_the_runtime_directory() {
        assert_eq!(DEFAULT_PATH, "/run/keepvip/keepvip.sock");
        assert_eq!(
            Path::new(DEFAULT_PATH).parent(),
            Some(Path::new("/run/keepvip"))
        );
    }
}
