//! Raw IPv4 sockets for IP protocol 51 (Authentication Header) on one
//! interface: VRRPv2 with `auth_type AH`.
//!
//! Like [`super::vrrp_socket`], one socket receives (unbound, in the
//! 224.0.0.18 group) and one sends. The sender writes the IPv4 header
//! itself (IP_HDRINCL): the AH checksum covers its identification field,
//! which the kernel would otherwise choose after the fact. This layer moves
//! bytes only; the headers and the checks are the core's (`vrrp::ah`).

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use super::socket::{new_socket, send_datagrams, setsockopt_named, SEND_BATCH};
use super::vrrp_socket::{
    attach_drop_all_filter, bind_to_device, device_name, in_addr, join_group, sockaddr_in,
};

/// IP protocol number of the Authentication Header (IANA).
pub const IPPROTO_AH: libc::c_int = 51;

/// Receive buffer asked for, as for plain VRRP.
const RCVBUF: libc::c_int = 256 * 1024;

/// An AH sender and receiver for one interface.
#[derive(Debug)]
pub struct AhSocket {
    recv: OwnedFd,
    send: OwnedFd,
}

impl AhSocket {
    /// Opens both sockets on `ifname` (index `ifindex`), listening on
    /// `group`. Needs CAP_NET_RAW.
    pub fn open(ifname: &str, ifindex: u32, group: Ipv4Addr) -> io::Result<Self> {
        let device = device_name(ifname)?;
        let ifindex = i32::try_from(ifindex)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;

        let recv = new_socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            IPPROTO_AH,
        )?;
        bind_to_device(&recv, &device, ifname)?;
        join_group(&recv, ifname, ifindex, group, " (AH)")?;
        let _ = setsockopt_named(
            &recv,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &RCVBUF,
            "SO_RCVBUF",
        );

        let send = new_socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            IPPROTO_AH,
        )?;
        bind_to_device(&send, &device, ifname)?;
        let on: libc::c_int = 1;
        setsockopt_named(&send, libc::IPPROTO_IP, libc::IP_HDRINCL, &on, "IP_HDRINCL")?;
        let off: libc::c_int = 0;
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
            imr_ifindex: ifindex,
        };
        setsockopt_named(
            &send,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            &out_if,
            "IP_MULTICAST_IF",
        )?;
        // Never read: unicast AH to our address would fill its buffer.
        attach_drop_all_filter(&send)?;
        Ok(AhSocket { recv, send })
    }

    /// Sends whole IPv4 datagrams (header included), each to its
    /// destination; see [`send_datagrams`] for the result.
    pub fn send_batch(&self, datagrams: &[(&[u8], Ipv4Addr)]) -> io::Result<usize> {
        let mut messages = [(&[][..], sockaddr_in(Ipv4Addr::UNSPECIFIED)); SEND_BATCH];
        let count = datagrams.len().min(SEND_BATCH);
        for (message, &(datagram, dst)) in messages.iter_mut().zip(&datagrams[..count]) {
            *message = (datagram, sockaddr_in(dst));
        }
        send_datagrams(&self.send, &messages[..count])
    }

    /// Reads one datagram, IPv4 header included; `Ok(None)` when nothing is
    /// waiting. The length returned is the datagram's (MSG_TRUNC).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            // SAFETY: buf is valid for writing buf.len() bytes.
            let n = unsafe {
                libc::recv(
                    self.recv.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(libc::EAGAIN) => Ok(None),
                    Some(libc::EINTR) => continue,
                    _ => Err(e),
                };
            }
            return Ok(Some(n as usize));
        }
    }
}

impl AsRawFd for AhSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.recv.as_raw_fd()
    }
}

impl AsFd for AhSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.recv.as_fd()
    }
}
