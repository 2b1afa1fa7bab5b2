//! Raw IPv6 sockets for next header 112 (VRRP) on one interface.
//!
//! Unlike IPv4, a raw IPv6 socket never hands over the IP header: the
//! source comes from recvmsg's address, and the hop limit and destination
//! from ancillary data (IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO), which the
//! core needs to check the hop limit and the VRRPv3 checksum. As for IPv4
//! the sender and receiver are a [`RawPair`]: the sender is bound to our
//! source (the link-local address, or unicast_src_ip), the receiver stays
//! unbound and joins the group.
//!
//! IPV6_CHECKSUM is deliberately not set: the kernel would then compute a
//! checksum at an offset of our choosing, but VRRP's is computed by the
//! codec, and on a raw socket of protocol 112 the kernel leaves it alone
//! unless asked.

use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use super::raw_pair::RawPair;
use super::socket::{bind_to, send_datagram, send_datagrams, setsockopt_named, SEND_BATCH};
use super::vrrp_socket::IPPROTO_VRRP;

/// The IPv6 group VRRP adverts go to (RFC 5798 section 5.1.2.2), unless
/// the config names another.
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// What recvmsg said about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received6 {
    /// The VRRP payload's length: more than the caller's buffer when the
    /// datagram did not fit in it.
    pub len: usize,
    pub source: Ipv6Addr,
    /// The packet's destination (our address or the group); unspecified if
    /// the kernel did not say.
    pub destination: Ipv6Addr,
    /// 0 if the kernel did not say, which the core then refuses for
    /// multicast.
    pub hop_limit: u8,
}

#[derive(Debug)]
pub struct Vrrp6Socket {
    pair: RawPair,
    ifindex: u32,
}

impl Vrrp6Socket {
    /// Opens both sockets on `ifname` (index `ifindex`), sending from
    /// `source`, an address of that interface, and listening on `group`
    /// (VRRP_GROUP_V6 or the configured one); unicast adverts leave with
    /// hop limit `unicast_hops`. Needs CAP_NET_RAW.
    pub fn open(
        ifname: &str,
        ifindex: u32,
        source: Ipv6Addr,
        group: Ipv6Addr,
        unicast_hops: u8,
    ) -> io::Result<Self> {
        let pair = RawPair::open(ifname, ifindex, IPPROTO_VRRP, IpAddr::V6(group), "")?;
        let recv = &pair.recv;
        let on: libc::c_int = 1;
        setsockopt_named(
            recv,
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVHOPLIMIT,
            &on,
            "IPV6_RECVHOPLIMIT",
        )?;
        setsockopt_named(
            recv,
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVPKTINFO,
            &on,
            "IPV6_RECVPKTINFO",
        )?;
        let send = &pair.send;
        let sa = sockaddr_in6(source, ifindex);
        bind_to(send, &sa).map_err(|e| {
            io::Error::new(e.kind(), format!("{ifname}: bind to source {source}: {e}"))
        })?;
        // Hop limit 255 for the group (RFC 5798 section 5.1.2.3); unicast
        // takes keepalived's `unicast_ttl`, 255 by default so that peers
        // that check it on unicast too are satisfied.
        let hops: libc::c_int = 255;
        setsockopt_named(
            send,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_HOPS,
            &hops,
            "IPV6_MULTICAST_HOPS",
        )?;
        let unicast_hops = libc::c_int::from(unicast_hops);
        setsockopt_named(
            send,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            &unicast_hops,
            "IPV6_UNICAST_HOPS",
        )?;
        // Traffic class 0xc0, as keepalived marks its IPv6 adverts.
        let tclass: libc::c_int = 0xc0;
        setsockopt_named(
            send,
            libc::IPPROTO_IPV6,
            libc::IPV6_TCLASS,
            &tclass,
            "IPV6_TCLASS",
        )?;
        Ok(Vrrp6Socket { pair, ifindex })
    }

    /// Sends `payload` (a VRRP message) to `dst`, the group or a peer.
    pub fn send_to(&self, payload: &[u8], dst: Ipv6Addr) -> io::Result<()> {
        send_datagram(
            &self.pair.send,
            payload,
            &sockaddr_in6(dst, self.ifindex),
            "VRRP advert",
        )
    }

    /// Sends adverts, each to its destination, with as few system calls as
    /// possible; see [`send_datagrams`] for the result.
    pub fn send_batch(&self, adverts: &[(&[u8], Ipv6Addr)]) -> io::Result<usize> {
        let unset = sockaddr_in6(Ipv6Addr::UNSPECIFIED, self.ifindex);
        let mut messages = [(&[][..], unset); SEND_BATCH];
        let count = adverts.len().min(SEND_BATCH);
        for (message, &(payload, dst)) in messages.iter_mut().zip(&adverts[..count]) {
            *message = (payload, sockaddr_in6(dst, self.ifindex));
        }
        send_datagrams(&self.pair.send, &messages[..count])
    }

    /// Reads one datagram's payload into `buf`. `Ok(None)` when nothing is
    /// waiting. `len` is the datagram's: when it exceeds `buf.len()`, the
    /// datagram did not fit and only its start is in `buf`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received6>> {
        loop {
            // SAFETY: all-zero is valid for these plain-data structs.
            let mut from: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            // u64s, so the control buffer is aligned for cmsghdr.
            let mut control = [0u64; 32];
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr() as *mut libc::c_void,
                iov_len: buf.len(),
            };
            // SAFETY: as above.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_name = &mut from as *mut libc::sockaddr_in6 as *mut libc::c_void;
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = std::mem::size_of_val(&control) as _;
            // SAFETY: msg points at live buffers of the lengths it states.
            // MSG_TRUNC: return the datagram's full length.
            let n = unsafe { libc::recvmsg(self.pair.recv.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
            if n < 0 {
                match super::raw_pair::failed_receive() {
                    Some(answer) => return answer,
                    None => continue,
                }
            }
            let mut received = Received6 {
                len: n as usize,
                source: Ipv6Addr::from(from.sin6_addr.s6_addr),
                destination: Ipv6Addr::UNSPECIFIED,
                hop_limit: 0,
            };
            // SAFETY: the CMSG_* walk stays within msg_controllen, which
            // the kernel set to what it wrote; data is read unaligned.
            unsafe {
                let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
                while !cmsg.is_null() {
                    let data = libc::CMSG_DATA(cmsg);
                    match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
                        (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                            let hops = std::ptr::read_unaligned(data as *const libc::c_int);
                            received.hop_limit = u8::try_from(hops).unwrap_or(0);
                        }
                        (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                            let info = std::ptr::read_unaligned(data as *const libc::in6_pktinfo);
                            received.destination = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                        }
                        _ => {}
                    }
                    cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
                }
            }
            return Ok(Some(received));
        }
    }
}

impl AsRawFd for Vrrp6Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.pair.recv.as_raw_fd()
    }
}

impl AsFd for Vrrp6Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pair.recv.as_fd()
    }
}

pub(super) fn in6_addr(ip: Ipv6Addr) -> libc::in6_addr {
    libc::in6_addr {
        s6_addr: ip.octets(),
    }
}

/// A sockaddr_in6; link-scoped addresses (fe80::/10, ff02::/16) need the
/// interface as scope id, others ignore it.
pub(super) fn sockaddr_in6(ip: Ipv6Addr, ifindex: u32) -> libc::sockaddr_in6 {
    // SAFETY: sockaddr_in6 is plain data; zero is a valid value.
    let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_addr = in6_addr(ip);
    // Multicast of link scope: ff02::/16, or ff12::/16 for a transient group.
    let link_scoped =
        ip.is_unicast_link_local() || (ip.octets()[0] == 0xff && ip.octets()[1] & 0x0f == 2);
    if link_scoped {
        sa.sin6_scope_id = ifindex;
    }
    sa
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_scoped_addresses_carry_the_interface() {
        assert_eq!(sockaddr_in6(VRRP_GROUP_V6, 7).sin6_scope_id, 7);
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        assert_eq!(sockaddr_in6(ll, 7).sin6_scope_id, 7);
        let global: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let sa = sockaddr_in6(global, 7);
        assert_eq!(sa.sin6_scope_id, 0);
        assert_eq!(sa.sin6_addr.s6_addr, global.octets());
        assert_eq!(sa.sin6_port, 0);
    }
}
