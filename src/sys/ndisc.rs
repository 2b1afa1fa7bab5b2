//! Unsolicited neighbour advertisements (RFC 4861 section 7.2.6): IPv6's
//! gratuitous ARP, sent after taking an IPv6 virtual address.
//!
//! A raw ICMPv6 socket: the kernel always fills in the ICMPv6 checksum on
//! such sockets (RFC 3542 section 3.1), so the message is built without it.
//! The source is the virtual address itself and the destination all-nodes
//! (ff02::1), hop limit 255, as keepalived 2.2.7 sends them (see
//! tests/fixtures/captures/).

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::socket::{check_sent, new_socket, setsockopt_named};
use super::vrrp6_socket::{in6_addr, sockaddr_in6};
use super::vrrp_socket::{bind_to_device, device_name};

/// Length of the message: 24 bytes of NA, 8 of target link-layer option.
pub const NA_LEN: usize = 32;
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// Override: replace whatever link-layer address neighbours have cached.
const NA_FLAG_OVERRIDE: u8 = 0x20;
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// linux/icmpv6.h: the receive filter option.
const ICMP6_FILTER: libc::c_int = 1;

/// A send-only ICMPv6 socket on one interface.
#[derive(Debug)]
pub struct NeighbourAdvert {
    fd: OwnedFd,
    ifindex: u32,
}

impl NeighbourAdvert {
    pub fn open(ifname: &str, ifindex: u32) -> io::Result<Self> {
        let device = device_name(ifname)?;
        let fd = new_socket(
            libc::AF_INET6,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            libc::IPPROTO_ICMPV6,
        )?;
        bind_to_device(&fd, &device, ifname)?;
        // Nobody reads this socket: block every ICMPv6 type so it does not
        // queue the LAN's neighbour discovery.
        let block_all = [u32::MAX; 8];
        setsockopt_named(
            &fd,
            libc::IPPROTO_ICMPV6,
            ICMP6_FILTER,
            &block_all,
            "ICMP6_FILTER",
        )?;
        // RFC 4861: neighbour discovery messages must have hop limit 255.
        let hops: libc::c_int = 255;
        setsockopt_named(
            &fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_HOPS,
            &hops,
            "IPV6_MULTICAST_HOPS",
        )?;
        let out_if = ifindex as libc::c_int;
        setsockopt_named(
            &fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_IF,
            &out_if,
            "IPV6_MULTICAST_IF",
        )?;
        Ok(NeighbourAdvert { fd, ifindex })
    }

    /// Announces `target` (which must already be on the interface) at
    /// `mac`, from `target` itself to all nodes.
    pub fn send(&self, mac: [u8; 6], target: Ipv6Addr) -> io::Result<()> {
        let message = unsolicited_na(mac, target);
        let dst = sockaddr_in6(ALL_NODES, self.ifindex);
        let mut iov = libc::iovec {
            iov_base: message.as_ptr() as *mut libc::c_void,
            iov_len: message.len(),
        };
        // The source address goes in IPV6_PKTINFO: the socket is not bound,
        // since one socket serves every VIP of the interface.
        let info = libc::in6_pktinfo {
            ipi6_addr: in6_addr(target),
            ipi6_ifindex: self.ifindex,
        };
        let mut control = [0u64; 8];
        // SAFETY: all-zero msghdr is valid; every pointer set below refers
        // to a live local of the stated length; the cmsg written fits in
        // `control` (CMSG_SPACE of an in6_pktinfo is 40 bytes < 64).
        let n = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = &dst as *const libc::sockaddr_in6 as *mut libc::c_void;
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            let info_len = std::mem::size_of::<libc::in6_pktinfo>() as u32;
            msg.msg_controllen = libc::CMSG_SPACE(info_len) as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
            (*cmsg).cmsg_type = libc::IPV6_PKTINFO;
            (*cmsg).cmsg_len = libc::CMSG_LEN(info_len) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::in6_pktinfo, info);
            libc::sendmsg(self.fd.as_raw_fd(), &msg, 0)
        };
        check_sent(n, message.len(), "neighbour advertisement")
    }
}

impl AsRawFd for NeighbourAdvert {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The ICMPv6 message, checksum left zero for the kernel: type 136, code 0,
/// flags Override (not Router, not Solicited), target, and the Target
/// Link-Layer Address option with our MAC.
pub fn unsolicited_na(mac: [u8; 6], target: Ipv6Addr) -> [u8; NA_LEN] {
    let mut m = [0u8; NA_LEN];
    m[0] = ND_NEIGHBOR_ADVERT;
    m[4] = NA_FLAG_OVERRIDE;
    m[8..24].copy_from_slice(&target.octets());
    m[24] = ND_OPT_TARGET_LINKADDR;
    m[25] = 1; // option length in units of 8 bytes
    m[26..32].copy_from_slice(&mac);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_matches_keepalived_capture() {
        // keepalived 2.2.7 announcing 2001:db8::100 from ba:5d:65:75:22:cf
        // (tests/fixtures/captures/), checksum b68b as the kernel set it.
        let captured: [u8; NA_LEN] = [
            0x88, 0x00, 0xb6, 0x8b, 0x20, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0x01, 0x00, 0x02, 0x01, 0xba, 0x5d, 0x65, 0x75, 0x22, 0xcf,
        ];
        let target: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let mut ours = unsolicited_na([0xba, 0x5d, 0x65, 0x75, 0x22, 0xcf], target);
        assert_eq!(ours[4..], captured[4..]);
        assert_eq!(ours[..2], captured[..2]);
        // What the kernel adds: the checksum over the pseudo-header (source
        // = target, destination ff02::1, length, next header 58).
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&target.octets());
        pseudo.extend_from_slice(&ALL_NODES.octets());
        pseudo.extend_from_slice(&(NA_LEN as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 58]);
        let sum = crate::vrrp::checksum::finish(crate::vrrp::checksum::sum(
            &ours,
            crate::vrrp::checksum::sum(&pseudo, 0),
        ));
        ours[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(ours, captured);
    }
}
