//! The pair of raw sockets that every advert transport here opens on one
//! interface (VRRP over IPv4 or IPv6, VRRPv2 in an Authentication Header):
//! a receiver, left unbound and in the group, and a sender, never read.
//!
//! Two sockets, because one cannot do both jobs: a raw socket bound to a
//! unicast source only receives datagrams sent *to* that address, never the
//! group. What differs between the transports (the sender's source, TTL,
//! IP_HDRINCL, the receiver's ancillary data) each adds to the pair it gets.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use super::socket::{new_socket, send_datagrams, setsockopt_named, SEND_BATCH};
use super::vrrp6_socket::in6_addr;
use super::vrrp_socket::{
    attach_drop_all_filter, bind_to_device, device_name, in_addr, sockaddr_in,
};

/// Receive buffer asked for: room for a burst of a few hundred adverts while
/// the loop is busy (the kernel doubles it and caps it at rmem_max).
const RCVBUF: libc::c_int = 256 * 1024;

#[derive(Debug)]
pub(super) struct RawPair {
    pub(super) recv: OwnedFd,
    pub(super) send: OwnedFd,
}

impl RawPair {
    /// Opens both sockets for IP protocol `protocol` on `ifname` (index
    /// `ifindex`), both bound to the interface; the receiver joins `group`
    /// (whose family is the sockets'), the sender sends multicast out of
    /// this interface only, does not hear itself, and drops all it would
    /// be handed. `what` ends the group join's error message.
    pub(super) fn open(
        ifname: &str,
        ifindex: u32,
        protocol: libc::c_int,
        group: IpAddr,
        what: &str,
    ) -> io::Result<Self> {
        let device = device_name(ifname)?;
        // The kernel's interface indexes are C ints.
        let c_ifindex = i32::try_from(ifindex)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;
        let domain = match group {
            IpAddr::V4(_) => libc::AF_INET,
            IpAddr::V6(_) => libc::AF_INET6,
        };
        let open_bound = || -> io::Result<OwnedFd> {
            let fd = new_socket(domain, libc::SOCK_RAW | libc::SOCK_NONBLOCK, protocol)?;
            bind_to_device(&fd, &device, ifname)?;
            Ok(fd)
        };

        let recv = open_bound()?;
        match group {
            IpAddr::V4(group) => join_group(&recv, ifname, c_ifindex, group, what)?,
            IpAddr::V6(group) => {
                let join = libc::ipv6_mreq {
                    ipv6mr_multiaddr: in6_addr(group),
                    ipv6mr_interface: ifindex,
                };
                setsockopt_named(
                    &recv,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_ADD_MEMBERSHIP,
                    &join,
                    &format!("{ifname}: IPV6_ADD_MEMBERSHIP {group}{what}"),
                )?;
            }
        }
        // Best effort: above rmem_max the kernel caps it silently anyway.
        let _ = setsockopt_named(
            &recv,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &RCVBUF,
            "SO_RCVBUF",
        );

        let send = open_bound()?;
        let off: libc::c_int = 0;
        match group {
            IpAddr::V4(_) => {
                setsockopt_named(
                    &send,
                    libc::IPPROTO_IP,
                    libc::IP_MULTICAST_LOOP,
                    &off,
                    "IP_MULTICAST_LOOP",
                )?;
                let out_if = libc::ip_mreqn {
                    imr_multiaddr: in_addr(Ipv4Addr::UNSPECIFIED),
                    imr_address: in_addr(Ipv4Addr::UNSPECIFIED),
                    imr_ifindex: c_ifindex,
                };
                setsockopt_named(
                    &send,
                    libc::IPPROTO_IP,
                    libc::IP_MULTICAST_IF,
                    &out_if,
                    "IP_MULTICAST_IF",
                )?;
            }
            IpAddr::V6(_) => {
                setsockopt_named(
                    &send,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_MULTICAST_LOOP,
                    &off,
                    "IPV6_MULTICAST_LOOP",
                )?;
                setsockopt_named(
                    &send,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_MULTICAST_IF,
                    &c_ifindex,
                    "IPV6_MULTICAST_IF",
                )?;
            }
        }
        // The sender is never read. Being a raw socket of the protocol it
        // would still be handed unicast adverts addressed to our source
        // (unicast peers) and fill its buffer; a one-instruction filter that
        // accepts nothing stops that at the socket.
        attach_drop_all_filter(&send)?;
        Ok(RawPair { recv, send })
    }

    /// Sends whole IPv4 payloads (bare VRRP, or datagrams with their header
    /// under IP_HDRINCL), each to its destination; see [`send_datagrams`]
    /// for the result.
    pub(super) fn send_batch_v4(&self, payloads: &[(&[u8], Ipv4Addr)]) -> io::Result<usize> {
        let mut messages = [(&[][..], sockaddr_in(Ipv4Addr::UNSPECIFIED)); SEND_BATCH];
        let count = payloads.len().min(SEND_BATCH);
        for (message, &(payload, dst)) in messages.iter_mut().zip(&payloads[..count]) {
            *message = (payload, sockaddr_in(dst));
        }
        send_datagrams(&self.send, &messages[..count])
    }

    /// Reads one datagram from the receiver (for IPv4, its header
    /// included). `Ok(None)` when nothing is waiting (EAGAIN); after a
    /// readiness event call until `None` (mio is edge-triggered).
    ///
    /// The length returned is the datagram's: when it exceeds `buf.len()`,
    /// the datagram did not fit and only its start is in `buf`.
    pub(super) fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            // SAFETY: buf is valid for writing buf.len() bytes. MSG_TRUNC
            // makes the call return the datagram's full length.
            let n = unsafe {
                libc::recv(
                    self.recv.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                match failed_receive() {
                    Some(answer) => return answer,
                    None => continue,
                }
            }
            return Ok(Some(n as usize));
        }
    }
}

/// What a receive that returned -1 means, from errno: nothing waiting
/// (EAGAIN) or an error to return; None for EINTR, to try again.
pub(super) fn failed_receive<T>() -> Option<io::Result<Option<T>>> {
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) => Some(Ok(None)),
        Some(libc::EINTR) => None,
        _ => Some(Err(e)),
    }
}

/// IP_ADD_MEMBERSHIP: the interface takes datagrams sent to `group`; the
/// raw socket then also gets those of any other group joined on it, which
/// the core tells apart by destination.
fn join_group(
    recv: &OwnedFd,
    ifname: &str,
    ifindex: i32,
    group: Ipv4Addr,
    what: &str,
) -> io::Result<()> {
    let join = libc::ip_mreqn {
        imr_multiaddr: in_addr(group),
        imr_address: in_addr(Ipv4Addr::UNSPECIFIED),
        imr_ifindex: ifindex,
    };
    setsockopt_named(
        recv,
        libc::IPPROTO_IP,
        libc::IP_ADD_MEMBERSHIP,
        &join,
        &format!("{ifname}: IP_ADD_MEMBERSHIP {group}{what}"),
    )
}
