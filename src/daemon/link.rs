//! The per-interface resources: one VRRP socket pair for every interface,
//! family and source that carries an instance, and the announcers its
//! addresses need (gratuitous ARP for IPv4, unsolicited neighbour
//! advertisements for IPv6): the link's own family always, the other one
//! when an instance owns an excluded address of that family (an IPv4
//! instance carrying IPv6 addresses).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, RawFd};

use super::announcers::Announcers;
use crate::config::{Authentication, InstanceConfig};
use crate::sys::ah_socket::AhSocket;
use crate::sys::interface;
use crate::sys::socket::SEND_BATCH;
use crate::sys::vrrp6_socket::{Received6, Vrrp6Socket, VRRP_GROUP_V6};
use crate::sys::vrrp_socket::{VrrpSocket, VRRP_GROUP_V4};
use crate::vrrp::discard::{Discard, RawPacket};

enum Sockets {
    V4(VrrpSocket),
    V6(Vrrp6Socket),
    /// IPv4 in an Authentication Header (`auth_type AH`): whole datagrams
    /// both ways.
    V4Ah(AhSocket),
}

/// What one read returned: for IPv4 the header is in the buffer, for IPv6
/// the socket layer says what the header held. The length is the
/// datagram's, which may exceed the buffer.
pub enum Received {
    V4(usize),
    V6(Received6),
    V4Ah(usize),
}

impl Received {
    /// The packet for the core's decoder, over the buffer it was read into;
    /// a datagram the buffer could not hold is lost.
    pub fn packet<'a>(&self, buf: &'a [u8]) -> Result<RawPacket<'a>, Discard> {
        let len = match *self {
            Received::V4(len) | Received::V4Ah(len) => len,
            Received::V6(r) => r.len,
        };
        let bytes = buf.get(..len).ok_or(Discard::Oversized)?;
        Ok(match *self {
            Received::V4(_) | Received::V4Ah(_) => RawPacket::Ipv4(bytes),
            Received::V6(r) => RawPacket::Ipv6 {
                payload: bytes,
                source: r.source,
                destination: r.destination,
                hop_limit: r.hop_limit,
            },
        })
    }
}

/// What makes two instances share a link's sockets: the interface, the
/// family, the advert source they ask for, and how the sockets are opened.
pub type LinkKey = (String, bool, Option<IpAddr>, LinkOptions);

/// How a link's sockets are opened, beyond interface, family and source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LinkOptions {
    /// Adverts travel in an IP Authentication Header: another IP protocol,
    /// other sockets.
    pub ah: bool,
    /// `use_vmac`: adverts go out of the macvlan, whose only addresses are
    /// the VIPs, so their source is the primary address of this interface
    /// (the instance's own).
    pub source_interface: Option<String>,
    /// The group adverts go to and are heard on, when not the RFC's
    /// (`vrrp_mcast_group4`/`6`, `mcast_dst_ip`); never set with unicast
    /// peers, which have no use for a group.
    pub group: Option<IpAddr>,
    /// `unicast_ttl`: the TTL (hop limit) of unicast adverts, when not 255.
    pub unicast_ttl: Option<u8>,
}

/// The TTL (hop limit) of unicast adverts without `unicast_ttl`: the
/// RFC's 255 for both families (keepalived 2.2.7 leaves IPv6 at the
/// kernel's 64; either is accepted by it and by keepvip).
const UNICAST_TTL: u8 = 255;

/// The link an instance's adverts use: its interface, or its macvlan
/// (`use_vmac` without `vmac_xmit_base`).
pub fn link_key(config: &InstanceConfig) -> LinkKey {
    let vmac = config.vmac.as_ref().filter(|v| !v.xmit_base);
    let options = LinkOptions {
        ah: matches!(config.authentication, Some(Authentication::Ah(_))),
        source_interface: vmac.map(|_| config.interface.clone()),
        group: config
            .multicast_group
            .filter(|_| config.unicast_peers.is_empty()),
        unicast_ttl: config.unicast_ttl.filter(|ttl| *ttl != UNICAST_TTL),
    };
    let interface = vmac.map_or(&config.interface, |v| &v.name);
    (
        interface.clone(),
        config.is_ipv6(),
        config.source_address(),
        options,
    )
}

pub struct Link {
    pub key: LinkKey,
    pub name: String,
    pub ifindex: u32,
    /// The source of our adverts on this link.
    pub source: IpAddr,
    /// The group its adverts go to, and the only one they are heard on.
    group: IpAddr,
    sockets: Sockets,
    /// For the addresses of its instances on this interface.
    pub announcers: Announcers,
    /// The interface was deleted (and maybe re-created with a new index):
    /// these sockets are dead until reopened.
    pub stale: bool,
    /// The last read stopped at the batch limit, not at an empty socket:
    /// read again before sleeping (mio is edge triggered).
    pub more_to_read: bool,
}

impl Link {
    /// Opens the sockets of `name` for IPv6 or IPv4 (in AH or not), sending
    /// from `source` when given (an instance's `unicast_src_ip`/
    /// `mcast_src_ip`), else from the interface's primary IPv4 or its IPv6
    /// link-local address.
    pub fn open(key: &LinkKey) -> io::Result<Link> {
        let (name, ipv6, source, options) = (key.0.as_str(), key.1, key.2, &key.3);
        let address_from = options.source_interface.as_deref().unwrap_or(name);
        let with_context =
            |what: &str, e: io::Error| io::Error::new(e.kind(), format!("{name}: {what}: {e}"));
        let ifindex = interface::ifindex(name).map_err(|e| with_context("no such interface", e))?;
        let mac =
            interface::hardware_address(name).map_err(|e| with_context("hardware address", e))?;
        let (source, group, sockets) = if ipv6 {
            let source = match source {
                Some(IpAddr::V6(source)) => source,
                _ => interface::link_local_ipv6(address_from)
                    .map_err(|e| with_context("no IPv6 link-local address to send from", e))?,
            };
            let group = match options.group {
                Some(IpAddr::V6(group)) => group,
                _ => VRRP_GROUP_V6,
            };
            let hops = options.unicast_ttl.unwrap_or(UNICAST_TTL);
            let vrrp = Vrrp6Socket::open(name, ifindex, source, group, hops)
                .map_err(|e| with_context("VRRP IPv6 socket", e))?;
            (IpAddr::V6(source), group.into(), Sockets::V6(vrrp))
        } else {
            let source = match source {
                Some(IpAddr::V4(source)) => source,
                _ => interface::primary_ipv4(address_from)
                    .map_err(|e| with_context("no IPv4 address to send from", e))?,
            };
            let group = match options.group {
                Some(IpAddr::V4(group)) => group,
                _ => VRRP_GROUP_V4,
            };
            let ttl = options.unicast_ttl.unwrap_or(UNICAST_TTL);
            let sockets = if options.ah {
                Sockets::V4Ah(
                    AhSocket::open(name, ifindex, group)
                        .map_err(|e| with_context("AH socket", e))?,
                )
            } else {
                Sockets::V4(
                    VrrpSocket::open(name, ifindex, source, group, ttl)
                        .map_err(|e| with_context("VRRP socket", e))?,
                )
            };
            (IpAddr::V4(source), group.into(), sockets)
        };
        let mut link = Link {
            key: key.clone(),
            name: name.to_string(),
            ifindex,
            source,
            group,
            sockets,
            announcers: Announcers::new(name, ifindex, mac),
            stale: false,
            more_to_read: false,
        };
        link.announcers.open(ipv6)?;
        Ok(link)
    }

    /// The VRRP group of this link: its family's, or the configured one.
    pub fn group(&self) -> IpAddr {
        self.group
    }

    /// Whether this link carries whole IPv4 datagrams in an Authentication
    /// Header rather than bare VRRP messages.
    pub fn is_ah(&self) -> bool {
        matches!(self.sockets, Sockets::V4Ah(_))
    }

    /// Sends several VRRP messages (AH: whole datagrams), each to its destination, in one system
    /// call where it can. Returns how many went (at least one), or the error
    /// of the first, which the caller counts and skips.
    pub fn send_batch(&self, messages: &[(&[u8], IpAddr)]) -> io::Result<usize> {
        let wrong = || Err(wrong_family(messages[0].1));
        match &self.sockets {
            Sockets::V4(vrrp) => {
                let v4 = |d| match d {
                    IpAddr::V4(d) => Some(d),
                    IpAddr::V6(_) => None,
                };
                match leading_run(messages, Ipv4Addr::UNSPECIFIED, v4) {
                    (_, 0) => wrong(),
                    (batch, n) => vrrp.send_batch(&batch[..n]),
                }
            }
            Sockets::V4Ah(ah) => {
                let v4 = |d| match d {
                    IpAddr::V4(d) => Some(d),
                    IpAddr::V6(_) => None,
                };
                match leading_run(messages, Ipv4Addr::UNSPECIFIED, v4) {
                    (_, 0) => wrong(),
                    (batch, n) => ah.send_batch(&batch[..n]),
                }
            }
            Sockets::V6(vrrp) => {
                let v6 = |d| match d {
                    IpAddr::V6(d) => Some(d),
                    IpAddr::V4(_) => None,
                };
                match leading_run(messages, Ipv6Addr::UNSPECIFIED, v6) {
                    (_, 0) => wrong(),
                    (batch, n) => vrrp.send_batch(&batch[..n]),
                }
            }
        }
    }

    /// Reads one packet into `buf`; `Ok(None)` when the socket is empty.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        match &self.sockets {
            Sockets::V4(vrrp) => Ok(vrrp.recv(buf)?.map(Received::V4)),
            Sockets::V6(vrrp) => Ok(vrrp.recv(buf)?.map(Received::V6)),
            Sockets::V4Ah(ah) => Ok(ah.recv(buf)?.map(Received::V4Ah)),
        }
    }
}

/// The first messages (at most SEND_BATCH) whose destinations `family`
/// accepts, with the destination in that family's type, and how many.
fn leading_run<'a, A: Copy>(
    messages: &[(&'a [u8], IpAddr)],
    unset: A,
    family: impl Fn(IpAddr) -> Option<A>,
) -> ([(&'a [u8], A); SEND_BATCH], usize) {
    let mut batch = [(&[][..], unset); SEND_BATCH];
    let mut n = 0;
    for &(payload, destination) in messages.iter().take(SEND_BATCH) {
        let Some(destination) = family(destination) else {
            break;
        };
        batch[n] = (payload, destination);
        n += 1;
    }
    (batch, n)
}

fn wrong_family(address: IpAddr) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{address}: not this link's address family"),
    )
}

/// The receiving socket's descriptor, for registering with mio.
impl AsRawFd for Link {
    fn as_raw_fd(&self) -> RawFd {
        match &self.sockets {
            Sockets::V4(vrrp) => vrrp.as_raw_fd(),
            Sockets::V6(vrrp) => vrrp.as_raw_fd(),
            Sockets::V4Ah(ah) => ah.as_raw_fd(),
        }
    }
}
