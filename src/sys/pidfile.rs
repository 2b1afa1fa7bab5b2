//! A locked pid file: the lock, not the file's existence, says a daemon is
//! running, so a stale file left by a crash never blocks a restart and a
//! second daemon on the same file is refused.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Holds the lock until dropped; removes the file then.
#[derive(Debug)]
pub struct PidFile {
    /// Never read: holding the descriptor open is what holds the lock.
    _file: File,
    path: PathBuf,
}

impl PidFile {
    /// Locks `path` and writes our pid into it. Another live holder is an
    /// error of kind `WouldBlock` whose message names its pid.
    pub fn create(path: &Path) -> io::Result<PidFile> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "{} is locked by a running keepvip (pid {}); not starting a second one",
                        path.display(),
                        holder.trim()
                    ),
                ));
            }
            return Err(err);
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(PidFile {
            _file: file,
            path: path.to_path_buf(),
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Removed while still locked, so no second daemon can slip in
        // between; the lock goes with the descriptor right after.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_a_stale_file_is_not() {
        let path =
            std::env::temp_dir().join(format!("keepvip-pidfile-test-{}", std::process::id()));
        std::fs::write(&path, "99999\n").unwrap();
        let first = PidFile::create(&path).expect("a stale file does not block");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        // flock locks belong to the open file description: a second open
        // in this process is refused just like another process would be.
        let err = PidFile::create(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(err.to_string().contains(&std::process::id().to_string()));
        drop(first);
        assert!(!path.exists());
    }
}
