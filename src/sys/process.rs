//! Child processes for check and notify scripts: started in their own
//! process group (so a timeout can kill everything a script started),
//! output to /dev/null (a chatty script can never fill a pipe and stall),
//! optionally as another user; reaped without blocking after SIGCHLD.

use std::ffi::CString;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Numeric identity to run a script as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// How a reaped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    Exited(i32),
    Signaled(i32),
}

impl ExitKind {
    pub fn success(self) -> bool {
        self == ExitKind::Exited(0)
    }
}

/// Starts `argv` (no shell) in a new process group whose id is its pid,
/// and returns that pid. It is not waited for here: see [`reap`].
pub fn spawn(argv: &[String], identity: Option<&Identity>) -> io::Result<u32> {
    let program = argv
        .first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    spawn_program(Path::new(program), argv, identity)
}

/// Like [`spawn`], but executes `program` (argv[0] stays as given), so
/// that the file executed is exactly the one a caller checked.
pub fn spawn_program(
    program: &Path,
    argv: &[String],
    identity: Option<&Identity>,
) -> io::Result<u32> {
    let (name, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = Command::new(program);
    command
        .arg0(name)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let identity = identity.cloned();
    // SAFETY: sigemptyset on a zeroed sigset_t we own.
    let no_signals = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        set
    };
    // SAFETY: between fork and exec only async-signal-safe calls
    // (pthread_sigmask, sched_setscheduler, setpriority, setrlimit,
    // setgroups, setgid, setuid) on data prepared before the fork.
    unsafe {
        command.pre_exec(move || {
            // std hands the child the daemon's signal mask (SIGTERM,
            // SIGCHLD, ... blocked for the signalfd): a script would then
            // ignore the SIGTERM of its timeout. dash clears the mask when
            // it starts, so shell scripts hid this; programs do not.
            libc::pthread_sigmask(libc::SIG_SETMASK, &no_signals, std::ptr::null_mut());
            // First, while still root: a script never runs realtime.
            super::scheduling::prepare_child();
            if let Some(identity) = &identity {
                let groups: &[libc::gid_t] = &identity.groups;
                if libc::setgroups(groups.len() as _, groups.as_ptr()) != 0
                    || libc::setgid(identity.gid) != 0
                    || libc::setuid(identity.uid) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    Ok(child.id())
}

/// Sends `signal` to the process group `pgid` (a script and its children).
/// A group that has already ended is not an error: there is nothing left
/// to signal. EPERM is: a script running as another user, and a daemon
/// without CAP_KILL, which leaves it running.
pub fn signal_group(pgid: u32, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: killpg with a plain integer and signal number.
    if unsafe { libc::killpg(pgid as libc::pid_t, signal) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ESRCH) {
            return Err(e);
        }
    }
    Ok(())
}

/// Every child that has ended, without blocking.
pub fn reap() -> Vec<(u32, ExitKind)> {
    let mut ended = Vec::new();
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid with a valid pointer to a local.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return ended;
        }
        let kind = if libc::WIFEXITED(status) {
            ExitKind::Exited(libc::WEXITSTATUS(status))
        } else {
            ExitKind::Signaled(libc::WTERMSIG(status))
        };
        ended.push((pid as u32, kind));
    }
}

/// Looks up a user (and group) by name or number: `script_user` and a
/// script's `user`.
pub fn resolve_identity(user: &str, group: Option<&str>) -> io::Result<Identity> {
    let not_found = |what: &str, name: &str| {
        io::Error::new(io::ErrorKind::NotFound, format!("no {what} {name:?}"))
    };
    let name = CString::new(user).map_err(|_| not_found("user", user))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; getpwnam_r fills it, pointing into buf.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers valid for the sizes given.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    let (uid, primary_gid) = if rc == 0 && !found.is_null() {
        (pwd.pw_uid, pwd.pw_gid)
    } else if let Ok(uid) = user.parse::<u32>() {
        (uid, uid)
    } else {
        return Err(not_found("user", user));
    };
    let gid = match group {
        None => primary_gid,
        Some(group) => resolve_group(group).ok_or_else(|| not_found("group", group))?,
    };
    let mut groups = vec![gid];
    if !found.is_null() {
        let mut count: libc::c_int = 64;
        let mut list = vec![0 as libc::gid_t; count as usize];
        // SAFETY: list has room for `count` entries; count is updated.
        let n = unsafe { libc::getgrouplist(name.as_ptr(), gid, list.as_mut_ptr(), &mut count) };
        if n >= 0 {
            list.truncate(count as usize);
            groups = list;
        }
    }
    Ok(Identity { uid, gid, groups })
}

fn resolve_group(group: &str) -> Option<u32> {
    let name = CString::new(group).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: as in resolve_identity, for getgrnam_r.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all pointers valid for the sizes given.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    if rc == 0 && !found.is_null() {
        Some(grp.gr_gid)
    } else {
        group.parse().ok()
    }
}

/// Finds the program a command would run: a path as given, a bare name on
/// $PATH; and checks it is an executable file.
pub fn find_executable(program: &str) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        let path =
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .collect()
    };
    for candidate in &candidates {
        if let Ok(meta) = std::fs::metadata(candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate.clone());
            }
            if program.contains('/') {
                return Err(format!("{program} is not an executable file"));
            }
        }
    }
    Err(if program.contains('/') {
        format!("{program} does not exist")
    } else {
        format!("{program} not found on PATH")
    })
}

/// The owner and mode of one component of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub path: PathBuf,
    pub uid: u32,
    pub mode: u32,
    pub is_dir: bool,
}

/// `path` with every symlink resolved, and the owner and mode of that file
/// and of each directory above it, the file first.
pub fn ownership_chain(path: &Path) -> Result<(PathBuf, Vec<Ownership>), String> {
    let canonical = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut chain = Vec::new();
    let mut current: Option<&Path> = Some(&canonical);
    while let Some(p) = current {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        chain.push(Ownership {
            path: p.to_path_buf(),
            uid: meta.uid(),
            mode: meta.permissions().mode(),
            is_dir: meta.is_dir(),
        });
        current = p.parent();
    }
    Ok((canonical, chain))
}

/// The daemon's own effective uid: who a script without a user runs as.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_a_command_in_its_own_group_and_reaps_it() {
        let argv: Vec<String> = ["/bin/sh", "-c", "exit 3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pid = spawn(&argv, None).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            // Other tests in this binary may reap their own children; we only
            // look for ours and wait on it directly as a fallback.
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid pointer.
            let rc = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
            if rc == pid as libc::pid_t {
                assert!(libc::WIFEXITED(status));
                assert_eq!(libc::WEXITSTATUS(status), 3);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "child never ended");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The daemon blocks its signals for the signalfd; a script must not
    /// start with them blocked, or its timeout's SIGTERM would wait. awk
    /// reads its own mask (a shell would clear it first and hide this).
    #[test]
    fn a_child_starts_with_no_signal_blocked() {
        let file = std::env::temp_dir().join(format!("keepvip-mask-{}", std::process::id()));
        let program = format!(
            "BEGIN {{ while ((getline l < \"/proc/self/status\") > 0) \
             if (l ~ /^SigBlk/) print l > \"{}\" }}",
            file.display()
        );
        let argv: Vec<String> = ["awk", &program].iter().map(|s| s.to_string()).collect();
        // Blocked in this thread, as the daemon's are; the child forks from it.
        let mut blocked: libc::sigset_t = unsafe { std::mem::zeroed() };
        let mut before: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: signal set calls on sets we own; the mask is restored below.
        unsafe {
            libc::sigemptyset(&mut blocked);
            libc::sigaddset(&mut blocked, libc::SIGUSR1);
            libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, &mut before);
        }
        let pid = spawn(&argv, None);
        // SAFETY: as above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut()) };
        let pid = pid.unwrap();
        let mut status = 0;
        // SAFETY: blocking waitpid on our own child.
        unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        let seen = std::fs::read_to_string(&file).unwrap();
        let _ = std::fs::remove_file(&file);
        assert_eq!(
            seen.split_whitespace().nth(1),
            Some("0000000000000000"),
            "{seen}"
        );
    }

    #[test]
    fn kills_a_hanging_process_group() {
        let argv: Vec<String> = ["/bin/sh", "-c", "sleep 1000 & sleep 1000"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pid = spawn(&argv, None).unwrap();
        signal_group(pid, libc::SIGKILL).unwrap();
        let mut status = 0;
        // SAFETY: blocking waitpid on our own child.
        let rc = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        assert_eq!(rc, pid as libc::pid_t);
        assert!(libc::WIFSIGNALED(status));
    }

    #[test]
    fn runs_as_another_user_when_asked() {
        // Only root can switch users; elsewhere this says so and stops.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("runs_as_another_user_when_asked: NOT RUN, needs root (CI runs it as root)");
            return;
        }
        let Ok(nobody) = resolve_identity("nobody", None) else {
            panic!("no user 'nobody' on this machine");
        };
        let dir = std::env::temp_dir().join(format!("keepvip-runas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = dir.join("id");
        let script = format!("id -u > {} && id -g >> {}", out.display(), out.display());
        let argv: Vec<String> = ["/bin/sh", "-c", &script]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pid = spawn(&argv, Some(&nobody)).unwrap();
        let mut status = 0;
        // SAFETY: blocking waitpid on our own child.
        unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        let ids = std::fs::read_to_string(&out).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(ids, format!("{}\n{}\n", nobody.uid, nobody.gid));
    }

    #[test]
    fn finds_executables_and_explains_what_is_wrong() {
        assert!(find_executable("sh").is_ok());
        assert!(find_executable("/bin/sh").is_ok());
        assert!(find_executable("/nonexistent/x")
            .unwrap_err()
            .contains("does not exist"));
        let plain = std::env::temp_dir().join(format!("keepvip-plain-{}", std::process::id()));
        std::fs::write(&plain, "not a program").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        let verdict = find_executable(plain.to_str().unwrap());
        let _ = std::fs::remove_file(&plain);
        assert!(verdict.unwrap_err().contains("not an executable"));
        assert!(find_executable("no-such-program-keepvip")
            .unwrap_err()
            .contains("not found on PATH"));
    }

    #[test]
    fn resolves_root_by_name_and_number() {
        let root = resolve_identity("root", None).unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(resolve_identity("0", Some("0")).unwrap().uid, 0);
        assert!(resolve_identity("no-such-user-keepvip", None).is_err());
    }
}
