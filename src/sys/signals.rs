//! Signals as readable events, so the one mio loop handles them like any
//! other input and no code runs in signal-handler context.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// The signals the daemon acts on: TERM/INT stop, HUP reloads, USR1/USR2
/// dump state and counters, CHLD reaps script and notify children, QUIT
/// restarts without a failover (`keepvip restart`, see daemon::restart).
/// QUIT rather than a real-time signal: its number is the same under glibc
/// and musl (whose SIGRTMIN differ), and every `kill` knows its name. The
/// set stays blocked across the restart's execve, so a signal that
/// arrives meanwhile waits for the new image's signalfd.
pub const HANDLED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCHLD,
    Signal::SIGQUIT,
];

/// A non-blocking signalfd for [`HANDLED`], which are blocked for the
/// calling thread so that they queue on the fd instead of being delivered.
///
/// Create it first thing in `main`, before any other thread exists, since a
/// signal mask is per thread and threads inherit it at creation. Children
/// started with `std::process::Command` get an empty mask again (std resets
/// it before exec), so scripts see signals normally.
///
/// The signals stay blocked after drop: unblocking would deliver any pending
/// one with its default action (SIGTERM would kill the process mid-exit).
#[derive(Debug)]
pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Block [`HANDLED`] and open a non-blocking, close-on-exec signalfd for
    /// them.
    pub fn new() -> io::Result<Self> {
        let mut mask = SigSet::empty();
        for sig in HANDLED {
            mask.add(sig);
        }
        // Block first: a signal arriving between the two calls then waits
        // pending and shows up on the fd, instead of killing the process.
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    /// The next pending signal, or `Ok(None)` when there is none (EAGAIN).
    ///
    /// Standard signals do not queue: two SIGCHLDs before a read are one
    /// event, so the caller must reap all exited children per SIGCHLD.
    /// Call in a loop until `None` after a readiness event (mio is
    /// edge-triggered).
    pub fn read(&mut self) -> io::Result<Option<Signal>> {
        match self.fd.read_signal()? {
            None => Ok(None),
            Some(info) => Signal::try_from(info.ssi_signo as i32)
                .map(Some)
                .map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("signalfd returned signal {}: {e}", info.ssi_signo),
                    )
                }),
        }
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_signal_is_read_once() {
        // The mask is per thread and the test harness runs each test on its
        // own thread, so this blocks SIGUSR2 only here; raise() targets the
        // calling thread, whose pending set the signalfd reads as well.
        let mut signals = Signals::new().unwrap();
        assert_eq!(signals.read().unwrap(), None);
        nix::sys::signal::raise(Signal::SIGUSR2).unwrap();
        assert_eq!(signals.read().unwrap(), Some(Signal::SIGUSR2));
        assert_eq!(signals.read().unwrap(), None);
        assert!(signals.as_raw_fd() >= 0);
    }
}
