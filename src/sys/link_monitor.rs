//! Link state changes from the kernel: a NETLINK_ROUTE socket subscribed to
//! RTMGRP_LINK, non-blocking, for the event loop to poll.
//!
//! Each RTM_NEWLINK / RTM_DELLINK carries an `ifinfomsg` and attributes:
//!
//! ```text
//! ifinfomsg (16 bytes): u8 family, u8 pad, u16 type, i32 index,
//!                       u32 flags (IFF_*), u32 change
//! attributes: IFLA_IFNAME (3) = NUL-terminated name, ...
//! ```
//!
//! Interfaces are reported by name, since tracking is configured by name
//! and an interface that is re-created comes back with a new index.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::rtnetlink::{attrs, ne_u32, split_messages};
use super::socket::new_socket;

const IFINFOMSG_LEN: usize = 16;
const IFLA_IFNAME: u16 = libc::IFLA_IFNAME;

/// One interface's state as an event reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    pub ifindex: u32,
    pub name: String,
    /// Administratively up and with carrier (IFF_UP and IFF_RUNNING); false
    /// also when the interface was deleted.
    pub up: bool,
}

#[derive(Debug)]
pub struct LinkMonitor {
    fd: OwnedFd,
}

impl LinkMonitor {
    pub fn open() -> io::Result<LinkMonitor> {
        let fd = new_socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            libc::NETLINK_ROUTE,
        )?;
        // SAFETY: sockaddr_nl is plain data; zeroed is a valid value.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = libc::RTMGRP_LINK as u32;
        // SAFETY: addr is a valid sockaddr_nl of the size passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LinkMonitor { fd })
    }

    /// Every event queued now. An overrun socket (ENOBUFS: events were
    /// lost) is reported as an error of kind `OutOfMemory`, so that the
    /// caller re-reads the state of what it tracks.
    pub fn read_events(&mut self) -> io::Result<Vec<LinkEvent>> {
        let mut events = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            // SAFETY: buf is valid for writes of its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.raw_os_error() {
                    Some(libc::EAGAIN) => Ok(events),
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => Err(io::Error::new(
                        io::ErrorKind::OutOfMemory,
                        "link events lost",
                    )),
                    _ => Err(err),
                };
            }
            events.extend(parse_link_events(&buf[..n as usize])?);
        }
    }
}

impl AsRawFd for LinkMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The link events in one netlink datagram; other messages are skipped.
pub fn parse_link_events(datagram: &[u8]) -> io::Result<Vec<LinkEvent>> {
    let mut events = Vec::new();
    for message in split_messages(datagram)? {
        let deleted = match message.ty {
            libc::RTM_NEWLINK => false,
            libc::RTM_DELLINK => true,
            _ => continue,
        };
        let payload = message.payload;
        if payload.len() < IFINFOMSG_LEN {
            continue;
        }
        let ifindex = ne_u32(&payload[4..8]);
        let flags = ne_u32(&payload[8..12]);
        let mut name = None;
        for attr in attrs(&payload[IFINFOMSG_LEN..]) {
            let (ty, value) = attr?;
            if ty == IFLA_IFNAME {
                let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
                name = Some(String::from_utf8_lossy(&value[..end]).into_owned());
            }
        }
        let Some(name) = name else { continue };
        let running = libc::IFF_UP as u32 | libc::IFF_RUNNING as u32;
        events.push(LinkEvent {
            ifindex,
            name,
            up: !deleted && flags & running == running,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_message(ty: u16, ifindex: u32, flags: u32, name: &str) -> Vec<u8> {
        let mut attr = Vec::new();
        let name_len = name.len() + 1;
        attr.extend_from_slice(&((4 + name_len) as u16).to_ne_bytes());
        attr.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attr.extend_from_slice(name.as_bytes());
        attr.push(0);
        while attr.len() % 4 != 0 {
            attr.push(0);
        }
        let mut body = vec![0u8; IFINFOMSG_LEN];
        body[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        body[8..12].copy_from_slice(&flags.to_ne_bytes());
        body.extend_from_slice(&attr);
        let mut msg = Vec::new();
        msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&ty.to_ne_bytes());
        msg.extend_from_slice(&0u16.to_ne_bytes());
        msg.extend_from_slice(&[0; 8]);
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn parses_up_down_and_deleted() {
        let up = (libc::IFF_UP | libc::IFF_RUNNING) as u32;
        let mut datagram = link_message(libc::RTM_NEWLINK, 3, up, "eth0");
        datagram.extend(link_message(
            libc::RTM_NEWLINK,
            3,
            libc::IFF_UP as u32,
            "eth0",
        ));
        datagram.extend(link_message(libc::RTM_DELLINK, 4, up, "eth1"));
        let events = parse_link_events(&datagram).unwrap();
        let states: Vec<_> = events
            .iter()
            .map(|e| (e.ifindex, e.name.as_str(), e.up))
            .collect();
        assert_eq!(
            states,
            [(3, "eth0", true), (3, "eth0", false), (4, "eth1", false)]
        );
    }

    #[test]
    fn malformed_datagram_is_an_error_not_a_panic() {
        let mut datagram = link_message(libc::RTM_NEWLINK, 3, 0, "eth0");
        datagram[0] = 200;
        assert!(parse_link_events(&datagram).is_err());
        let truncated = link_message(libc::RTM_NEWLINK, 3, 0, "eth0");
        for len in 0..truncated.len() {
            let _ = parse_link_events(&truncated[..len]);
        }
    }
}
