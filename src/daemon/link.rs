//! The per-interface resources: one VRRP socket pair and one ARP socket for
//! every interface that carries at least one instance.

use std::io;
use std::net::Ipv4Addr;

use crate::sys::arp::GratuitousArp;
use crate::sys::interface;
use crate::sys::vrrp_socket::VrrpSocket;

/// What makes two instances share a link's sockets: the interface, and
/// the advert source they ask for.
pub type LinkKey = (String, Option<Ipv4Addr>);

pub struct Link {
    pub key: LinkKey,
    pub name: String,
    pub ifindex: u32,
    pub mac: [u8; 6],
    /// The source of our adverts on this link.
    pub source: Ipv4Addr,
    pub socket: VrrpSocket,
    pub arp: GratuitousArp,
    /// The interface was deleted (and maybe re-created with a new index):
    /// these sockets are dead until reopened.
    pub stale: bool,
    /// The last read stopped at the batch limit, not at an empty socket:
    /// read again before sleeping (mio is edge triggered).
    pub more_to_read: bool,
}

impl Link {
    /// Opens the sockets of `name`, sending from `source` when given (an
    /// instance's `mcast_src_ip`), else from the interface's primary address.
    pub fn open(name: &str, source: Option<Ipv4Addr>) -> io::Result<Link> {
        let source_wanted = source;
        let with_context =
            |what: &str, e: io::Error| io::Error::new(e.kind(), format!("{name}: {what}: {e}"));
        let ifindex = interface::ifindex(name).map_err(|e| with_context("no such interface", e))?;
        let mac =
            interface::hardware_address(name).map_err(|e| with_context("hardware address", e))?;
        let source = match source {
            Some(source) => source,
            None => interface::primary_ipv4(name)
                .map_err(|e| with_context("no IPv4 address to send from", e))?,
        };
        let socket =
            VrrpSocket::open(name, ifindex, source).map_err(|e| with_context("VRRP socket", e))?;
        let arp = GratuitousArp::open(ifindex).map_err(|e| with_context("ARP socket", e))?;
        Ok(Link {
            key: (name.to_string(), source_wanted),
            name: name.to_string(),
            ifindex,
            mac,
            source,
            socket,
            arp,
            stale: false,
            more_to_read: false,
        })
    }
}
