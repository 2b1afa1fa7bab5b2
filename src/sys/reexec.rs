//! Replacing the running image with the binary on disk (`keepvip restart`):
//! the same pid, so the service manager, the pid file's holder and the
//! script children all stay ours.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The kernel's id of this boot: monotonic times are only comparable
/// within one.
pub fn boot_id() -> io::Result<String> {
    Ok(std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?
        .trim()
        .to_string())
}

/// The binary to run again, resolved at start while /proc/self/exe is
/// still the file on disk: after an upgrade it names the deleted old
/// inode, and the path is what a restart must execute.
pub fn own_executable() -> io::Result<PathBuf> {
    let path = std::fs::read_link("/proc/self/exe")?;
    let text = path.as_os_str().as_bytes();
    // Already replaced under us: the name without the kernel's suffix is
    // still where the binary lives.
    match text.strip_suffix(b" (deleted)") {
        Some(name) => Ok(PathBuf::from(OsString::from_vec(name.to_vec()))),
        None => Ok(path),
    }
}

/// Whether `path` is a file we could execute (access(2) with X_OK), so that
/// a restart that cannot happen is refused before anything is given up.
pub fn executable(path: &Path) -> io::Result<()> {
    let name = c_string(path.as_os_str().as_bytes())?;
    // SAFETY: access with a NUL-terminated path.
    if unsafe { libc::access(name.as_ptr(), libc::X_OK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// execve(2) of `program` with `args` (argv[0] included) and the current
/// environment plus `extra_env`. Returns only on failure.
///
/// Called directly, not through `std::process::Command::exec`, which
/// unblocks every signal before it executes: a SIGTERM that arrived a
/// moment earlier would then kill us with its default action instead of
/// waiting, blocked, for the new image's signalfd. Blocked signals and
/// their pending state survive execve.
pub fn execute(program: &Path, args: &[OsString], extra_env: &[(&str, &OsStr)]) -> io::Error {
    let prepared = || -> io::Result<(CString, Vec<CString>, Vec<CString>)> {
        let program = c_string(program.as_os_str().as_bytes())?;
        let args = args
            .iter()
            .map(|a| c_string(a.as_bytes()))
            .collect::<io::Result<Vec<_>>>()?;
        let mut env = Vec::new();
        for (key, value) in std::env::vars_os() {
            if extra_env.iter().any(|(k, _)| key == *k) {
                continue;
            }
            let mut pair = key.into_vec();
            pair.push(b'=');
            pair.extend(value.into_vec());
            env.push(c_string(&pair)?);
        }
        for (key, value) in extra_env {
            let mut pair = key.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend(value.as_bytes());
            env.push(c_string(&pair)?);
        }
        Ok((program, args, env))
    };
    let (program, args, env) = match prepared() {
        Ok(prepared) => prepared,
        Err(e) => return e,
    };
    let argv: Vec<*const libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = env
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: NUL-terminated strings and NULL-terminated arrays of them,
    // all alive across the call.
    unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boot_id_and_our_own_binary_are_found() {
        assert_eq!(boot_id().unwrap().len(), 36);
        let me = own_executable().unwrap();
        assert!(me.is_absolute());
        assert!(executable(&me).is_ok());
        assert!(executable(Path::new("/nonexistent/keepvip")).is_err());
    }

    #[test]
    fn a_missing_program_is_an_error_not_an_exit() {
        let e = execute(Path::new("/nonexistent/keepvip"), &["keepvip".into()], &[]);
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
