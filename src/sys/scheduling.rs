//! How the kernel schedules this process: nice value, SCHED_RR with its
//! RLIMIT_RTTIME, locked memory and CPU affinity; and what a child gets
//! back before it runs a script. libc calls only; what to ask for is the
//! config's business.

use std::io;
use std::sync::OnceLock;

/// What the process had before the daemon changed its scheduling: script
/// children get it back. Unset (no daemon, or nothing changed): children
/// are left as forked.
static INHERITED: OnceLock<Inherited> = OnceLock::new();

#[derive(Debug, Clone, Copy)]
struct Inherited {
    rttime: libc::rlimit,
    nice: libc::c_int,
}

/// Call before the first change: from then on every child started by
/// `sys::process` runs as an ordinary process again.
pub fn reset_children() {
    let mut rttime = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: getrlimit with a valid pointer to a local.
    unsafe { libc::getrlimit(libc::RLIMIT_RTTIME, &mut rttime) };
    // SAFETY: getpriority of our own process; -1 is also a valid nice
    // value, and 0 is the safe reading of a failure.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }.clamp(-20, 19);
    let _ = INHERITED.set(Inherited { rttime, nice });
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets this process's nice value (-20..19).
pub fn set_nice(nice: i32) -> io::Result<()> {
    // SAFETY: setpriority on our own process (who = 0).
    check(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) })
}

/// Moves this process to SCHED_RR at `priority`, with CPU time between
/// blocking calls limited to `rttime_us` (SIGKILL) and half of it (SIGXCPU),
/// as keepalived sets them, so that a runaway loop cannot freeze the box.
pub fn set_realtime(priority: u32, rttime_us: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: (rttime_us / 2) as libc::rlim_t,
        rlim_max: rttime_us as libc::rlim_t,
    };
    // SAFETY: setrlimit with a valid pointer to a local.
    check(unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &limit) })?;
    // The soft limit's SIGXCPU would terminate us by default: keepalived's
    // VRRP process survives it (only the hard limit's SIGKILL ends it),
    // and here there is no parent to restart the one process that owns
    // the VIPs. Scripts get the default back (`prepare_child`).
    // SAFETY: setting a signal's disposition to SIG_IGN.
    unsafe { libc::signal(libc::SIGXCPU, libc::SIG_IGN) };
    check(set_scheduler(libc::SCHED_RR, priority as libc::c_int))
}

/// sched_setscheduler(2) on this process, as the system call itself:
/// musl's wrapper always fails with ENOSYS (Linux's call is not POSIX's),
/// and the binary we ship is linked with musl. The kernel reads only
/// `sched_priority`; musl's struct has more fields, zeroed here.
/// Async-signal-safe (used between fork and exec).
fn set_scheduler(policy: libc::c_int, priority: libc::c_int) -> libc::c_int {
    // SAFETY: sched_param is plain data; all zeroes is a valid value.
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    param.sched_priority = priority;
    // SAFETY: the system call on our own process (pid 0) with a pointer
    // to a local that outlives it.
    let result = unsafe {
        libc::syscall(
            libc::SYS_sched_setscheduler,
            0 as libc::pid_t,
            policy,
            &param as *const libc::sched_param,
        )
    };
    result as libc::c_int
}

/// Locks every page we have and will have in memory (no swapping).
pub fn lock_memory() -> io::Result<()> {
    // SAFETY: mlockall takes flags only.
    check(unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) })
}

/// Runs this process on `cpus` only. A CPU number beyond what the kernel
/// can name is refused here rather than silently dropped.
pub fn set_cpu_affinity(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("CPU {cpu} is beyond what the kernel can name"),
            ));
        }
        // SAFETY: cpu is within the set, checked above.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: sched_setaffinity on our own process with a valid set.
    check(unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) })
}

/// In a child between fork and exec: a script runs as an ordinary process,
/// as keepalived's do (SCHED_OTHER, the nice value we were started with:
/// 0 under keepalived's init scripts, our RLIMIT_RTTIME and SIGXCPU
/// taken back;
/// memory locks are not inherited by exec anyway). The CPU affinity stays
/// inherited, as keepalived leaves it. Best effort: a script still runs
/// if one of these is refused (a non-root daemon that was never raised).
/// Async-signal-safe calls only (OnceLock::get is an atomic load).
pub fn prepare_child() {
    let Some(inherited) = INHERITED.get() else {
        return;
    };
    set_scheduler(libc::SCHED_OTHER, 0);
    // SAFETY: plain system calls on the calling process with valid data.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, inherited.nice);
        libc::setrlimit(libc::RLIMIT_RTTIME, &inherited.rttime);
        // An ignored signal stays ignored across exec.
        libc::signal(libc::SIGXCPU, libc::SIG_DFL);
    }
}
