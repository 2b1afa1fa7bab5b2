//! Writing a file in a directory others can write to (/tmp) without being
//! tricked: whatever is at the path (a symlink planted by another user, a
//! hard link to someone's file) is replaced, never written through.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Names tried before giving up: another user can take a name we guess,
/// not every one of them.
const ATTEMPTS: u32 = 16;

/// Writes `contents` to a new file next to `path` and renames it over
/// `path`. The new file is created exclusively (O_EXCL) and never through
/// a symlink (O_NOFOLLOW), and rename replaces the directory entry itself,
/// so readers see the old file or the whole new one.
pub fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_file_with_mode(path, contents, 0o666)
}

/// [`replace_file`] with the new file created with `mode` (before the
/// umask), so that a private file is never readable by others, not even
/// for the moment before a chmod.
pub fn replace_file_with_mode(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let (temporary, mut file) = create_temporary(path, mode)?;
    // No fsync: a dump in /tmp is not worth stalling the loop on the disk.
    let written = file.write_all(contents);
    drop(file);
    let result = written.and_then(|()| fs::rename(&temporary, path));
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

fn create_temporary(path: &Path, mode: u32) -> io::Result<(PathBuf, fs::File)> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        // Not guessable in advance (time), and distinct within the process.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(".{}.{sequence}.{nanos:x}", std::process::id()));
        let temporary = path.with_file_name(temporary_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "keepvip-replace-file-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_a_symlink_and_leaves_its_target_alone() {
        let dir = scratch("symlink");
        let target = dir.join("target");
        fs::write(&target, "precious").unwrap();
        let path = dir.join("keepvip.data");
        symlink(&target, &path).unwrap();
        replace_file(&path, b"dump").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_file());
        assert_eq!(fs::read_to_string(&path).unwrap(), "dump");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2, "a temporary left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replaces_a_hard_link_without_writing_through_it() {
        let dir = scratch("hardlink");
        let target = dir.join("target");
        fs::write(&target, "precious").unwrap();
        let path = dir.join("keepvip.stats");
        fs::hard_link(&target, &path).unwrap();
        replace_file(&path, b"stats").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&path).unwrap(), "stats");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = scratch("missing");
        let path = dir.join("gone").join("keepvip.data");
        assert!(replace_file(&path, b"x").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
