//! Raw IPv4 sockets for IP protocol 51 (Authentication Header) on one
//! interface: VRRPv2 with `auth_type AH`.
//!
//! Like [`super::vrrp_socket`], a [`RawPair`]: one socket receives (unbound,
//! in the group) and one sends. The sender writes the IPv4 header
//! itself (IP_HDRINCL): the AH checksum covers its identification field,
//! which the kernel would otherwise choose after the fact. This layer moves
//! bytes only; the headers and the checks are the core's (`vrrp::ah`).

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use super::raw_pair::RawPair;
use super::socket::setsockopt_named;

/// IP protocol number of the Authentication Header (IANA).
pub const IPPROTO_AH: libc::c_int = 51;

/// An AH sender and receiver for one interface.
#[derive(Debug)]
pub struct AhSocket {
    pair: RawPair,
}

impl AhSocket {
    /// Opens both sockets on `ifname` (index `ifindex`), listening on
    /// `group`. Needs CAP_NET_RAW.
    pub fn open(ifname: &str, ifindex: u32, group: Ipv4Addr) -> io::Result<Self> {
        let pair = RawPair::open(ifname, ifindex, IPPROTO_AH, IpAddr::V4(group), " (AH)")?;
        let on: libc::c_int = 1;
        setsockopt_named(
            &pair.send,
            libc::IPPROTO_IP,
            libc::IP_HDRINCL,
            &on,
            "IP_HDRINCL",
        )?;
        Ok(AhSocket { pair })
    }

    /// Sends whole IPv4 datagrams (header included), each to its
    /// destination; see [`super::socket::send_datagrams`] for the result.
    pub fn send_batch(&self, datagrams: &[(&[u8], Ipv4Addr)]) -> io::Result<usize> {
        self.pair.send_batch_v4(datagrams)
    }

    /// Reads one datagram, IPv4 header included; `Ok(None)` when nothing is
    /// waiting. The length returned is the datagram's (MSG_TRUNC).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.pair.recv(buf)
    }
}

impl AsRawFd for AhSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.pair.recv.as_raw_fd()
    }
}

impl AsFd for AhSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pair.recv.as_fd()
    }
}
