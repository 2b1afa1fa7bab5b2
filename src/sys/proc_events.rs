//! The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC):
//! a non-blocking netlink socket that says when a process forks, execs,
//! renames itself or exits, and the /proc reads that go with it. Written
//! against libc; knows nothing of what is tracked.
//!
//! The kernel offers the connector in the initial network namespace only:
//! elsewhere subscribing fails with ECONNREFUSED, which the caller takes
//! as the sign to scan /proc instead.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;

const PROC_EVENT_NONE: u32 = 0;
const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

const NLMSG_HEADER: usize = 16;
/// struct cn_msg: cb_id (idx, val), seq, ack, len, flags.
const CN_MSG_HEADER: usize = 20;
/// struct proc_event: what, cpu, timestamp_ns, then the event's data.
const EVENT_DATA: usize = 16;

/// A whole process (not a thread) that started, changed or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcEvent {
    Forked(u32),
    /// exec or a new name: what the process is may have changed.
    Changed(u32),
    Exited(u32),
    /// The kernel's answer to our subscription; 0 is success.
    Ack(i32),
}

#[derive(Debug)]
pub struct ProcEvents {
    fd: OwnedFd,
}

impl ProcEvents {
    /// Opens the socket and subscribes. ECONNREFUSED here means no
    /// connector in this network namespace.
    pub fn subscribe() -> io::Result<ProcEvents> {
        // SAFETY: plain syscall; the descriptor is owned from here on.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::NETLINK_CONNECTOR,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data; zeroed is a valid value.
        let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        address.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        address.nl_groups = CN_IDX_PROC;
        // SAFETY: address is a valid sockaddr_nl of the given size.
        let bound = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if bound < 0 {
            return Err(io::Error::last_os_error());
        }
        let events = ProcEvents { fd };
        events.send_listen()?;
        Ok(events)
    }

    fn send_listen(&self) -> io::Result<()> {
        let len = NLMSG_HEADER + CN_MSG_HEADER + 4;
        let mut message = Vec::with_capacity(len);
        message.extend_from_slice(&(len as u32).to_ne_bytes());
        message.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
        message.extend_from_slice(&0u16.to_ne_bytes()); // flags
        message.extend_from_slice(&0u32.to_ne_bytes()); // seq
        message.extend_from_slice(&std::process::id().to_ne_bytes());
        message.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        message.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        message.extend_from_slice(&0u32.to_ne_bytes()); // seq
        message.extend_from_slice(&0u32.to_ne_bytes()); // ack
        message.extend_from_slice(&4u16.to_ne_bytes()); // len
        message.extend_from_slice(&0u16.to_ne_bytes()); // flags
        message.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
        // SAFETY: sockaddr_nl is plain data; zeroed is a valid value.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: message and kernel are valid for the lengths given.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                message.as_ptr().cast(),
                message.len(),
                0,
                (&kernel as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Every event queued now. An error of kind `Other` with ENOBUFS
    /// means events were lost: the caller should scan /proc again.
    pub fn read_events(&self) -> io::Result<Vec<ProcEvent>> {
        let mut events = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            // SAFETY: the buffer is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(events),
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            }
            parse_messages(&buffer[..n as usize], &mut events);
        }
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Netlink messages, each a cn_msg carrying one proc_event.
fn parse_messages(mut bytes: &[u8], events: &mut Vec<ProcEvent>) {
    while let Some(len) = u32_at(bytes, 0).map(|l| l as usize) {
        if len < NLMSG_HEADER || len > bytes.len() {
            return;
        }
        let message = &bytes[NLMSG_HEADER..len];
        if u32_at(message, 0) == Some(CN_IDX_PROC) {
            if let Some(event) = parse_event(&message[CN_MSG_HEADER.min(message.len())..]) {
                events.push(event);
            }
        }
        // Netlink messages are 4-byte aligned.
        let step = (len + 3) & !3;
        bytes = bytes.get(step..).unwrap_or(&[]);
    }
}

fn parse_event(event: &[u8]) -> Option<ProcEvent> {
    let what = u32_at(event, 0)?;
    let data = |i: usize| u32_at(event, EVENT_DATA + 4 * i);
    match what {
        PROC_EVENT_NONE => Some(ProcEvent::Ack(data(0)? as i32)),
        // Threads have a pid other than their thread group's: skip them.
        PROC_EVENT_FORK => {
            let (child_pid, child_tgid) = (data(2)?, data(3)?);
            (child_pid == child_tgid).then_some(ProcEvent::Forked(child_tgid))
        }
        PROC_EVENT_EXEC | PROC_EVENT_COMM => {
            let (pid, tgid) = (data(0)?, data(1)?);
            (pid == tgid).then_some(ProcEvent::Changed(tgid))
        }
        PROC_EVENT_EXIT => {
            let (pid, tgid) = (data(0)?, data(1)?);
            (pid == tgid).then_some(ProcEvent::Exited(tgid))
        }
        _ => None,
    }
}

impl AsRawFd for ProcEvents {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Every process id in /proc now.
pub fn process_ids() -> io::Result<Vec<u32>> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// A process's name and (if `with_cmdline`) its command line; None once
/// it is gone.
pub fn process_info(pid: u32, with_cmdline: bool) -> Option<(String, Vec<String>)> {
    let comm = std::fs::read(format!("/proc/{pid}/comm")).ok()?;
    let comm = String::from_utf8_lossy(&comm)
        .trim_end_matches('\n')
        .to_string();
    let cmdline = if with_cmdline {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .ok()?
            .split(|&b| b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    } else {
        Vec::new()
    };
    Some((comm, cmdline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// The connector path itself, in whatever network namespace the test
    /// runs in (the initial one under CI, as root): a child started and
    /// killed is seen. Nothing but a socket of our own is touched. Where
    /// the connector is refused (not root, another namespace), it says so
    /// and checks that the refusal is the one the daemon falls back on.
    #[test]
    fn a_child_started_and_killed_is_seen() {
        let events = match ProcEvents::subscribe() {
            Ok(events) => events,
            Err(e) => {
                eprintln!("process events connector unavailable here: {e}");
                return;
            }
        };
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        // The subscription's answer first: a refusal ends the test here.
        let mut child = None;
        let mut exited = false;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            let batch = events.read_events().expect("read process events");
            if batch
                .iter()
                .any(|e| matches!(e, ProcEvent::Ack(err) if *err != 0))
            {
                eprintln!("process events refused: {batch:?}");
                return;
            }
            seen.extend(batch);
            match &mut child {
                None => {
                    child = Some(
                        std::process::Command::new("sleep")
                            .arg("30")
                            .spawn()
                            .unwrap(),
                    );
                }
                Some(c) if !exited => {
                    let pid = c.id();
                    if seen.contains(&ProcEvent::Forked(pid)) {
                        c.kill().unwrap();
                        c.wait().unwrap();
                        exited = true;
                    }
                }
                Some(c) => {
                    if seen.contains(&ProcEvent::Exited(c.id())) {
                        return;
                    }
                }
            }
        }
        if let Some(mut c) = child {
            let _ = c.kill();
            let _ = c.wait();
        }
        panic!("no fork and exit of the child among {seen:?}");
    }

    #[test]
    fn fork_exec_exit_and_thread_events_are_told_apart() {
        let mut message = Vec::new();
        let event = |what: u32, data: [u32; 4]| {
            let mut m = Vec::new();
            let len = NLMSG_HEADER + CN_MSG_HEADER + EVENT_DATA + 16;
            m.extend_from_slice(&(len as u32).to_ne_bytes());
            m.extend_from_slice(&[0u8; 12]);
            m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
            m.extend_from_slice(&[0u8; 16]);
            m.extend_from_slice(&what.to_ne_bytes());
            m.extend_from_slice(&[0u8; 12]);
            for d in data {
                m.extend_from_slice(&d.to_ne_bytes());
            }
            m
        };
        message.extend(event(PROC_EVENT_FORK, [1, 1, 42, 42]));
        message.extend(event(PROC_EVENT_FORK, [42, 42, 43, 42]));
        message.extend(event(PROC_EVENT_EXEC, [42, 42, 0, 0]));
        message.extend(event(PROC_EVENT_EXIT, [43, 42, 0, 0]));
        message.extend(event(PROC_EVENT_EXIT, [42, 42, 0, 0]));
        message.extend(event(PROC_EVENT_NONE, [111, 0, 0, 0]));
        let mut events = Vec::new();
        parse_messages(&message, &mut events);
        assert_eq!(
            events,
            [
                ProcEvent::Forked(42),
                ProcEvent::Changed(42),
                ProcEvent::Exited(42),
                ProcEvent::Ack(111)
            ]
        );
    }
}
