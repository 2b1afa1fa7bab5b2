//! A timerfd for the loop's next deadline.
//!
//! epoll takes its timeout in whole milliseconds and mio rounds a `Duration`
//! up to the next one, so a loop that sleeps on the poll timeout alone wakes
//! up to 1 ms late for every VRRP timer: a backup's master_down would fire
//! late by that much on every failover. A timerfd has nanosecond resolution;
//! the loop arms it with the same deadline and is woken on the microsecond.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

#[derive(Debug)]
pub struct DeadlineTimer {
    fd: OwnedFd,
}

impl DeadlineTimer {
    /// A disarmed, non-blocking timer on CLOCK_MONOTONIC (the clock the
    /// core's microseconds come from).
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; the fd is owned from here on.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        Ok(DeadlineTimer {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Fires once, `after` from now. Arming again replaces the deadline and
    /// clears an expiry nobody read, so the fd never has to be read: the
    /// loop re-arms it on every turn.
    pub fn arm(&self, after: Duration) -> io::Result<()> {
        // A zero it_value would disarm the timer instead of firing now.
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                // `as _`: time_t is 32 or 64 bits by target (and libc marks
                // the name deprecated on musl); no deadline is 68 years out.
                tv_sec: after.as_secs().min(i32::MAX as u64) as _,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: spec is a valid itimerspec; no old value is asked for.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsRawFd for DeadlineTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn wait_readable(timer: &DeadlineTimer, timeout_ms: i32) -> bool {
        let mut pfd = libc::pollfd {
            fd: timer.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, timeout_ms) == 1 }
    }

    #[test]
    fn fires_after_the_deadline_and_rearming_clears_it() {
        let timer = DeadlineTimer::new().unwrap();
        let t0 = Instant::now();
        timer.arm(Duration::from_micros(1500)).unwrap();
        assert!(wait_readable(&timer, 1000));
        assert!(t0.elapsed() >= Duration::from_micros(1500));
        // Re-armed far away: the unread expiry is gone.
        timer.arm(Duration::from_secs(60)).unwrap();
        assert!(!wait_readable(&timer, 0));
        timer.arm(Duration::ZERO).unwrap();
        assert!(wait_readable(&timer, 1000), "zero means now, not disarm");
    }
}
