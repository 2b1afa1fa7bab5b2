//! inotify, for files the daemon follows (`track_file`): a non-blocking
//! descriptor the mio loop polls, written against libc.
//!
//! Directories are watched, not the files themselves: a file that is
//! deleted, replaced by a rename or created later is still seen.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// A file in the directory was written and closed, moved in or out,
/// created or deleted: whatever it holds may have changed. (IN_MODIFY is
/// left out: `echo N > file` truncates first, and reading then would see
/// an empty file for a moment.)
const DIRECTORY_CHANGES: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_CREATE
    | libc::IN_DELETE;

#[derive(Debug)]
pub struct Inotify {
    fd: OwnedFd,
}

/// One event: the watch it came from and the file name in that directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub watch: i32,
    pub name: OsString,
    /// The queue overflowed: events were lost, everything may have changed.
    pub overflow: bool,
}

impl Inotify {
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: plain syscall; the descriptor is owned from here on.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        Ok(Inotify {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `directory` for files changing in it; the same directory
    /// twice gives the same watch.
    pub fn watch_directory(&self, directory: &Path) -> io::Result<i32> {
        let path = CString::new(directory.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: path is NUL-terminated and outlives the call.
        let wd = unsafe {
            libc::inotify_add_watch(
                self.fd.as_raw_fd(),
                path.as_ptr(),
                DIRECTORY_CHANGES | libc::IN_ONLYDIR,
            )
        };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(wd)
    }

    /// Every event queued now (the descriptor is non-blocking; mio is
    /// edge-triggered, so read until it is empty).
    pub fn read_changes(&self) -> io::Result<Vec<Change>> {
        let mut changes = Vec::new();
        // Room for many events with names up to NAME_MAX.
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            // SAFETY: the buffer is valid for its length.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(changes),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(e),
                };
            }
            if n == 0 {
                return Ok(changes);
            }
            parse_events(&buffer[..n as usize], &mut changes);
        }
    }
}

/// `struct inotify_event` records: wd, mask, cookie, len, then `len` bytes
/// of NUL-padded name.
fn parse_events(mut bytes: &[u8], changes: &mut Vec<Change>) {
    const HEADER: usize = std::mem::size_of::<libc::inotify_event>();
    while bytes.len() >= HEADER {
        let field = |at: usize| {
            u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let watch = field(0) as i32;
        let mask = field(4);
        let len = field(12) as usize;
        let Some(name) = bytes.get(HEADER..HEADER + len) else {
            return;
        };
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        changes.push(Change {
            watch,
            name: OsString::from_vec(name[..end].to_vec()),
            overflow: mask & libc::IN_Q_OVERFLOW != 0,
        });
        bytes = &bytes[HEADER + len..];
    }
}

impl AsRawFd for Inotify {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real inotify on a private directory: no interface, no root needed.
    #[test]
    fn a_file_written_in_a_watched_directory_is_seen() {
        let dir = std::env::temp_dir().join(format!("keepvip-inotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inotify = Inotify::new().unwrap();
        let watch = inotify.watch_directory(&dir).unwrap();
        assert!(inotify.read_changes().unwrap().is_empty());
        std::fs::write(dir.join("drain"), "-254\n").unwrap();
        let changes = inotify.read_changes().unwrap();
        assert!(
            changes
                .iter()
                .any(|c| c.watch == watch && c.name == "drain" && !c.overflow),
            "{changes:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
