//! Link and address changes from the kernel: a NETLINK_ROUTE socket
//! subscribed to RTMGRP_LINK and RTMGRP_IPV4_IFADDR / RTMGRP_IPV6_IFADDR,
//! non-blocking, for the event loop to poll. Address removals let a master
//! put back a virtual address that someone deleted, of either family (an
//! IPv4 instance may own IPv6 excluded addresses).
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
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::rtnetlink::{attrs, ne_u32, split_messages};
use super::socket::{bind_to, new_socket};

const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const IFLA_IFNAME: u16 = libc::IFLA_IFNAME;
const IFA_ADDRESS: u16 = libc::IFA_ADDRESS;
const IFA_LOCAL: u16 = libc::IFA_LOCAL;

/// RTNLGRP_IPV4_RULE (8) and RTNLGRP_IPV6_RULE (19) as nl_groups bits:
/// rules removed by someone else are put back (routes and rules that a
/// master or the static blocks own).
const RULE_GROUPS: u32 = 1 << (8 - 1) | 1 << (19 - 1);

/// What the kernel told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    Link(LinkEvent),
    /// An address was removed from an interface (by us or anyone).
    AddressRemoved {
        ifindex: u32,
        address: IpAddr,
        prefix_len: u8,
    },
    /// An address was added to an interface.
    AddressAdded {
        ifindex: u32,
        address: IpAddr,
    },
    /// A route or a policy rule was removed (by us or anyone).
    RoutingRemoved,
}

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
        addr.nl_groups = (libc::RTMGRP_LINK
            | libc::RTMGRP_IPV4_IFADDR
            | libc::RTMGRP_IPV6_IFADDR
            | libc::RTMGRP_IPV4_ROUTE
            | libc::RTMGRP_IPV6_ROUTE) as u32
            | RULE_GROUPS;
        bind_to(&fd, &addr)?;
        Ok(LinkMonitor { fd })
    }

    /// Every event queued now. An overrun socket (ENOBUFS: events were
    /// lost) is reported as an error of kind `OutOfMemory`, so that the
    /// caller re-reads the state of what it tracks.
    pub fn read_events(&mut self) -> io::Result<Vec<NetEvent>> {
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
            events.extend(parse_events(&buf[..n as usize])?);
        }
    }
}

impl AsRawFd for LinkMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The events in one netlink datagram; other messages are skipped.
pub fn parse_events(datagram: &[u8]) -> io::Result<Vec<NetEvent>> {
    let mut events = Vec::new();
    for message in split_messages(datagram)? {
        let deleted = match message.ty {
            libc::RTM_NEWLINK => false,
            libc::RTM_DELLINK => true,
            libc::RTM_DELROUTE | libc::RTM_DELRULE => {
                if events.last() != Some(&NetEvent::RoutingRemoved) {
                    events.push(NetEvent::RoutingRemoved);
                }
                continue;
            }
            libc::RTM_DELADDR | libc::RTM_NEWADDR => {
                let removed = message.ty == libc::RTM_DELADDR;
                events.extend(parse_address_event(message.payload, removed)?);
                continue;
            }
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
        events.push(NetEvent::Link(LinkEvent {
            ifindex,
            name,
            up: !deleted && flags & running == running,
        }));
    }
    Ok(events)
}

fn parse_address_event(payload: &[u8], removed: bool) -> io::Result<Option<NetEvent>> {
    if payload.len() < IFADDRMSG_LEN {
        return Ok(None);
    }
    let family = i32::from(payload[0]);
    let prefix_len = payload[1];
    let ifindex = ne_u32(&payload[4..8]);
    let address_of = |value: &[u8]| -> Option<IpAddr> {
        match family {
            libc::AF_INET => <[u8; 4]>::try_from(value).ok().map(IpAddr::from),
            libc::AF_INET6 => <[u8; 16]>::try_from(value).ok().map(IpAddr::from),
            _ => None,
        }
    };
    let (mut local, mut peer) = (None, None);
    for attr in attrs(&payload[IFADDRMSG_LEN..]) {
        let (ty, value) = attr?;
        match ty {
            IFA_LOCAL => local = address_of(value),
            IFA_ADDRESS => peer = address_of(value),
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS differs from
    // it only on point-to-point links (IPv6 sends IFA_ADDRESS alone).
    Ok(local.or(peer).map(|address| {
        if removed {
            NetEvent::AddressRemoved {
                ifindex,
                address,
                prefix_len,
            }
        } else {
            NetEvent::AddressAdded { ifindex, address }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

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
        let events = parse_events(&datagram).unwrap();
        let states: Vec<_> = events
            .iter()
            .map(|e| match e {
                NetEvent::Link(e) => (e.ifindex, e.name.as_str(), e.up),
                other => panic!("not a link event: {other:?}"),
            })
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
        assert!(parse_events(&datagram).is_err());
        let truncated = link_message(libc::RTM_NEWLINK, 3, 0, "eth0");
        for len in 0..truncated.len() {
            let _ = parse_events(&truncated[..len]);
        }
    }

    /// An RTM_DELADDR message around `body` (ifaddrmsg and attributes).
    fn deladdr(body: &[u8]) -> Vec<u8> {
        let mut msg = Vec::new();
        msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&libc::RTM_DELADDR.to_ne_bytes());
        msg.extend_from_slice(&[0; 10]);
        msg.extend_from_slice(body);
        msg
    }

    #[test]
    fn parses_address_removal() {
        let mut body = vec![libc::AF_INET as u8, 24, 0, 0];
        body.extend_from_slice(&7u32.to_ne_bytes());
        for ty in [IFA_ADDRESS, IFA_LOCAL] {
            body.extend_from_slice(&8u16.to_ne_bytes());
            body.extend_from_slice(&ty.to_ne_bytes());
            body.extend_from_slice(&[192, 0, 2, 100]);
        }
        assert_eq!(
            parse_events(&deladdr(&body)).unwrap(),
            vec![NetEvent::AddressRemoved {
                ifindex: 7,
                address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
                prefix_len: 24
            }]
        );
    }

    /// IPv6 removals carry IFA_ADDRESS alone, 16 bytes.
    #[test]
    fn parses_ipv6_address_removal() {
        let address = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
        let mut body = vec![libc::AF_INET6 as u8, 64, 0, 0];
        body.extend_from_slice(&9u32.to_ne_bytes());
        body.extend_from_slice(&20u16.to_ne_bytes());
        body.extend_from_slice(&IFA_ADDRESS.to_ne_bytes());
        body.extend_from_slice(&address.octets());
        assert_eq!(
            parse_events(&deladdr(&body)).unwrap(),
            vec![NetEvent::AddressRemoved {
                ifindex: 9,
                address: IpAddr::V6(address),
                prefix_len: 64
            }]
        );
    }
}
