//! Raw IPv4 sockets for IP protocol 112 (VRRP) on one interface.
//!
//! A [`RawPair`]: the sender is bound to the interface's primary address so
//! the kernel uses it as the IP source; the receiver is left unbound and
//! joins the group.
//!
//! This layer moves bytes only: the kernel builds the IPv4 header on send,
//! and on receive the caller gets the IPv4 header plus payload to check
//! (TTL, lengths, checksum) itself.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use super::raw_pair::RawPair;
use super::socket::{bind_to, send_datagram, setsockopt_named};

/// IP protocol number of VRRP (IANA).
pub const IPPROTO_VRRP: libc::c_int = 112;

/// The IPv4 group VRRP adverts go to (RFC 3768 / RFC 5798), unless the
/// config names another.
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// A VRRP sender and receiver for one interface.
#[derive(Debug)]
pub struct VrrpSocket {
    pair: RawPair,
    group: Ipv4Addr,
}

impl VrrpSocket {
    /// Open both sockets on interface `ifname` (index `ifindex`), sending
    /// from `source`, which must be an address of that interface, and
    /// listening on `group` (VRRP_GROUP_V4 or the configured one); unicast
    /// adverts leave with TTL `unicast_ttl`. Needs CAP_NET_RAW.
    pub fn open(
        ifname: &str,
        ifindex: u32,
        source: Ipv4Addr,
        group: Ipv4Addr,
        unicast_ttl: u8,
    ) -> io::Result<Self> {
        let pair = RawPair::open(ifname, ifindex, IPPROTO_VRRP, IpAddr::V4(group), "")?;
        let send = &pair.send;
        let sa = sockaddr_in(source);
        bind_to(send, &sa).map_err(|e| {
            io::Error::new(e.kind(), format!("{ifname}: bind to source {source}: {e}"))
        })?;
        // VRRP requires TTL 255 on send, and receivers of multicast drop
        // anything else, which proves the packet did not cross a router.
        // Unicast (peers) has its own option: keepalived's `unicast_ttl`,
        // 255 by default.
        let ttl: libc::c_int = 255;
        setsockopt_named(
            send,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_TTL,
            &ttl,
            "IP_MULTICAST_TTL",
        )?;
        let unicast_ttl = libc::c_int::from(unicast_ttl);
        setsockopt_named(send, libc::IPPROTO_IP, libc::IP_TTL, &unicast_ttl, "IP_TTL")?;
        // Precedence "internetwork control" (0xc0), as keepalived marks its
        // adverts, so that switches that queue by DSCP treat ours alike.
        let tos: libc::c_int = libc::IPTOS_PREC_INTERNETCONTROL as libc::c_int;
        setsockopt_named(send, libc::IPPROTO_IP, libc::IP_TOS, &tos, "IP_TOS")?;
        Ok(VrrpSocket { pair, group })
    }

    /// Send `payload` (a VRRP message, without IP header) to the group.
    /// The kernel adds the IPv4 header: protocol 112, TTL 255, our source.
    ///
    /// A full socket buffer gives an error of kind `WouldBlock`.
    pub fn send(&self, payload: &[u8]) -> io::Result<()> {
        self.send_to(payload, self.group)
    }

    /// Send `payload` to `dst`: the group, or a unicast peer
    /// (keepalived's `unicast_peer`).
    pub fn send_to(&self, payload: &[u8], dst: Ipv4Addr) -> io::Result<()> {
        send_datagram(&self.pair.send, payload, &sockaddr_in(dst), "VRRP advert")
    }

    /// Sends adverts, each to its destination, with as few system calls as
    /// possible; see [`super::socket::send_datagrams`] for the result.
    pub fn send_batch(&self, adverts: &[(&[u8], Ipv4Addr)]) -> io::Result<usize> {
        self.pair.send_batch_v4(adverts)
    }

    /// Read one datagram: the IPv4 header (with options, if any) followed by
    /// the VRRP payload. `Ok(None)` when nothing is waiting (EAGAIN); after
    /// a readiness event call until `None` (mio is edge-triggered).
    ///
    /// The length returned is the datagram's: when it exceeds `buf.len()`,
    /// the datagram did not fit and only its start is in `buf`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.pair.recv(buf)
    }
}

/// The receiving socket's descriptor, for registering with mio.
impl AsRawFd for VrrpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.pair.recv.as_raw_fd()
    }
}

impl AsFd for VrrpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pair.recv.as_fd()
    }
}

/// The interface name as SO_BINDTODEVICE wants it: NUL-padded IFNAMSIZ.
pub(super) fn device_name(ifname: &str) -> io::Result<[u8; libc::IFNAMSIZ]> {
    if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ || ifname.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {ifname:?}"),
        ));
    }
    let mut dev = [0u8; libc::IFNAMSIZ];
    dev[..ifname.len()].copy_from_slice(ifname.as_bytes());
    Ok(dev)
}

/// SO_BINDTODEVICE: receive only from, and send only through, this
/// interface, whatever the routing table says.
pub(super) fn bind_to_device(
    fd: &OwnedFd,
    device: &[u8; libc::IFNAMSIZ],
    ifname: &str,
) -> io::Result<()> {
    setsockopt_named(
        fd,
        libc::SOL_SOCKET,
        libc::SO_BINDTODEVICE,
        device,
        &format!("{ifname}: SO_BINDTODEVICE"),
    )
}

/// Classic BPF `ret #0`: accept zero bytes of every packet, i.e. none.
pub(super) fn attach_drop_all_filter(fd: &OwnedFd) -> io::Result<()> {
    // linux/filter.h; declared here because libc only has them for some
    // targets.
    #[repr(C)]
    struct SockFilter {
        code: u16,
        jt: u8,
        jf: u8,
        k: u32,
    }
    #[repr(C)]
    struct SockFprog {
        len: libc::c_ushort,
        filter: *const SockFilter,
    }
    const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let program = [SockFilter {
        code: BPF_RET_K,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    let fprog = SockFprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_ptr(),
    };
    // The kernel copies the program during the call; `program` outlives it.
    setsockopt_named(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ATTACH_FILTER,
        &fprog,
        "SO_ATTACH_FILTER",
    )
}

pub(super) fn in_addr(ip: Ipv4Addr) -> libc::in_addr {
    // s_addr is in network byte order: the octets as they are written.
    libc::in_addr {
        s_addr: u32::from_ne_bytes(ip.octets()),
    }
}

pub(super) fn sockaddr_in(ip: Ipv4Addr) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    // Port 0: raw sockets have no ports; the field must be zero.
    sa.sin_addr = in_addr(ip);
    sa
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_helpers() {
        let a = in_addr(Ipv4Addr::new(224, 0, 0, 18));
        assert_eq!(a.s_addr.to_ne_bytes(), [224, 0, 0, 18]);
        let sa = sockaddr_in(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(sa.sin_family, libc::AF_INET as libc::sa_family_t);
        assert_eq!(sa.sin_port, 0);
        assert_eq!(sa.sin_addr.s_addr.to_ne_bytes(), [192, 0, 2, 1]);
    }

    #[test]
    fn device_names() {
        assert_eq!(&device_name("eth0").unwrap()[..5], b"eth0\0");
        assert!(device_name("").is_err());
        assert!(device_name("0123456789abcdef").is_err());
    }
}
