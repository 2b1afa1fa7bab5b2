//! Gratuitous ARP over an AF_PACKET socket: after taking a virtual IP, tell
//! the LAN's switches and neighbours that the IP now lives at our MAC.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::socket::{new_socket, send_datagram};

/// Length of the frame we send: 14 bytes of Ethernet header, 28 of ARP.
/// No padding to the 60-byte Ethernet minimum: the NIC pads, and keepalived
/// sends the same 42 bytes.
pub const FRAME_LEN: usize = 42;

const ETH_P_ARP: u16 = libc::ETH_P_ARP as u16;

/// A send-only AF_PACKET socket bound to one interface.
#[derive(Debug)]
pub struct GratuitousArp {
    fd: OwnedFd,
    ifindex: u32,
}

impl GratuitousArp {
    /// Open a raw packet socket on interface `ifindex` (needs CAP_NET_RAW).
    ///
    /// The socket is opened with protocol 0, which subscribes it to no
    /// incoming traffic: it only ever sends, and a socket listening for
    /// ETH_P_ARP would fill its buffer with every ARP on the LAN that nobody
    /// reads. The protocol is given per frame in [`GratuitousArp::send`].
    /// Non-blocking, so a full device queue is an error, not a stall.
    pub fn open(ifindex: u32) -> io::Result<Self> {
        let fd = new_socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0)?;
        // Bind to the interface (protocol still 0, so still no receive) so
        // the socket fails early when the interface does not exist.
        let addr = link_addr(ifindex, 0);
        // SAFETY: addr is a valid sockaddr_ll and the length is its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(GratuitousArp { fd, ifindex })
    }

    /// Broadcast one gratuitous ARP request announcing `ip` at `src_mac`
    /// (see [`gratuitous_arp_frame`] for the bytes).
    pub fn send(&self, src_mac: [u8; 6], ip: Ipv4Addr) -> io::Result<()> {
        let frame = gratuitous_arp_frame(src_mac, ip);
        // The frame carries its own Ethernet header (SOCK_RAW); the address
        // says which device and which protocol to tag the skb with.
        let addr = link_addr(self.ifindex, ETH_P_ARP.to_be());
        send_datagram(&self.fd, &frame, &addr, "ARP frame")
    }
}

impl AsRawFd for GratuitousArp {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A sockaddr_ll for `ifindex`; `protocol_be` is in network byte order.
fn link_addr(ifindex: u32, protocol_be: u16) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain data; zero is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = protocol_be;
    addr.sll_ifindex = ifindex as i32;
    // Destination for sendto on SOCK_RAW is taken from the frame itself;
    // sll_addr is filled anyway for readers of the code and for tcpdump -e.
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    addr
}

/// The Ethernet frame of a gratuitous ARP request for `ip` from `src_mac`.
///
/// Ethernet: to ff:ff:ff:ff:ff:ff, from `src_mac`, type 0x0806. ARP: htype
/// 1 (Ethernet), ptype 0x0800, hlen 6, plen 4, oper 1 (request), sender =
/// (`src_mac`, `ip`), target = (ff:ff:ff:ff:ff:ff, `ip`). A request, not a
/// reply, because every host processes a broadcast request for its cache
/// (RFC 5227 section 3). The broadcast target MAC is what Debian's
/// keepalived 2.2.7 sends (captured with tcpdump on a veth), so
/// neighbours see the same packet whichever daemon is master.
pub fn gratuitous_arp_frame(src_mac: [u8; 6], ip: Ipv4Addr) -> [u8; FRAME_LEN] {
    const BROADCAST: [u8; 6] = [0xff; 6];
    let ip = ip.octets();
    let mut f = [0u8; FRAME_LEN];
    // Ethernet header
    f[0..6].copy_from_slice(&BROADCAST);
    f[6..12].copy_from_slice(&src_mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    // ARP
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // htype: Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // ptype: IPv4
    f[18] = 6; // hlen
    f[19] = 4; // plen
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // oper: request
    f[22..28].copy_from_slice(&src_mac);
    f[28..32].copy_from_slice(&ip);
    f[32..38].copy_from_slice(&BROADCAST);
    f[38..42].copy_from_slice(&ip);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_matches_keepalived_capture() {
        // From `tcpdump -XX` of keepalived 2.2.7 announcing 192.0.2.100 from
        // b6:0d:61:7a:62:a9 on a veth.
        let want: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xb6, 0x0d, 0x61, 0x7a, 0x62, 0xa9, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0xb6, 0x0d, 0x61, 0x7a, 0x62, 0xa9,
            0xc0, 0x00, 0x02, 0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x64,
        ];
        let got = gratuitous_arp_frame(
            [0xb6, 0x0d, 0x61, 0x7a, 0x62, 0xa9],
            Ipv4Addr::new(192, 0, 2, 100),
        );
        assert_eq!(got, want);
    }
}
