//! A named pipe the daemon writes lines to (`notify_fifo`), without ever
//! blocking: it is opened read-write, so opening never waits for a reader
//! and a reader that comes later finds what was written; a full pipe (no
//! reader for a long time) refuses the write at once instead of stalling
//! the loop.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

#[derive(Debug)]
pub struct Fifo {
    fd: OwnedFd,
    /// We made it (and remove it when done); else it was there before.
    pub created: bool,
}

impl Fifo {
    /// Opens the fifo at `path`, making it (mode 0600, as keepalived does)
    /// if nothing is there. Anything else at `path` is an error.
    pub fn open(path: &Path) -> io::Result<Fifo> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut created = false;
        match std::fs::metadata(path) {
            Ok(meta) if meta.file_type().is_fifo() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a fifo",
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // SAFETY: c_path is NUL-terminated and outlives the call.
                if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                created = true;
            }
            Err(e) => return Err(e),
        }
        // SAFETY: c_path is NUL-terminated; the descriptor is owned below.
        let fd = unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Fifo {
            // SAFETY: fd is fresh and ours.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            created,
        })
    }

    /// Writes one line whole or not at all (a line is far below PIPE_BUF,
    /// so the kernel writes it atomically); WouldBlock when the pipe is full.
    pub fn write_line(&self, line: &str) -> io::Result<()> {
        let bytes = line.as_bytes();
        // SAFETY: bytes is valid for its length.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != bytes.len() {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// No reader at all: every write returns at once, the pipe fills and
    /// then refuses; a reader that comes later gets the first lines.
    #[test]
    fn a_fifo_without_a_reader_never_blocks() {
        let dir = std::env::temp_dir().join(format!("keepvip-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let fifo = Fifo::open(&path).unwrap();
        assert!(fifo.created);
        let t0 = Instant::now();
        let mut refused = 0;
        for _ in 0..100_000 {
            if let Err(e) = fifo.write_line("INSTANCE \"VI_1\" MASTER 150\n") {
                assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                refused += 1;
            }
        }
        assert!(refused > 0, "a pipe holds far less than 2.8 MB");
        assert!(t0.elapsed() < Duration::from_secs(5));
        let mut first = vec![0u8; 27];
        let mut reader = std::fs::File::open(&path).unwrap();
        std::io::Read::read_exact(&mut reader, &mut first).unwrap();
        assert_eq!(first, b"INSTANCE \"VI_1\" MASTER 150\n");
        // Something else at the path is refused.
        assert!(Fifo::open(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
