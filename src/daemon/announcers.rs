//! The sockets that announce our addresses on one interface: gratuitous
//! ARP for IPv4, unsolicited neighbour advertisements for IPv6, each opened
//! when an address of its family needs it. Every link has one set for its
//! own interface; an address configured with `dev OTHER` is announced on
//! OTHER, by a set the daemon opens for it (see `Daemon::announce`).

use std::io;
use std::net::IpAddr;

use super::link::Link;
use crate::config::VirtualAddress;
use crate::sys::arp::GratuitousArp;
use crate::sys::interface;
use crate::sys::ndisc::NeighbourAdvert;

pub(super) struct Announcers {
    pub name: String,
    pub ifindex: u32,
    mac: [u8; 6],
    arp: Option<GratuitousArp>,
    ndisc: Option<NeighbourAdvert>,
}

impl Announcers {
    /// None open yet.
    pub fn new(name: &str, ifindex: u32, mac: [u8; 6]) -> Announcers {
        Announcers {
            name: name.to_string(),
            ifindex,
            mac,
            arp: None,
            ndisc: None,
        }
    }

    /// For an interface known by name only: looks up its hardware address.
    pub fn for_interface(name: &str, ifindex: u32) -> io::Result<Announcers> {
        let mac = interface::hardware_address(name)
            .map_err(|e| io::Error::new(e.kind(), format!("{name}: hardware address: {e}")))?;
        Ok(Announcers::new(name, ifindex, mac))
    }

    /// Opens the announcer for IPv6 (or IPv4) addresses unless it is open.
    pub fn open(&mut self, ipv6: bool) -> io::Result<()> {
        let name = &self.name;
        let with_context =
            |what: &str, e: io::Error| io::Error::new(e.kind(), format!("{name}: {what}: {e}"));
        if ipv6 && self.ndisc.is_none() {
            let ndisc = NeighbourAdvert::open(name, self.ifindex)
                .map_err(|e| with_context("neighbour advertisement socket", e))?;
            self.ndisc = Some(ndisc);
        } else if !ipv6 && self.arp.is_none() {
            let arp =
                GratuitousArp::open(self.ifindex).map_err(|e| with_context("ARP socket", e))?;
            self.arp = Some(arp);
        }
        Ok(())
    }

    /// Which are open, (IPv4, IPv6): a reopened interface gets the same.
    pub fn families(&self) -> (bool, bool) {
        (self.arp.is_some(), self.ndisc.is_some())
    }

    /// One gratuitous ARP (IPv4) or unsolicited neighbour advertisement
    /// (IPv6) for `address`, whichever its family calls for.
    pub fn announce(&self, address: IpAddr) -> io::Result<()> {
        match (address, &self.arp, &self.ndisc) {
            (IpAddr::V4(a), Some(arp), _) => arp.send(self.mac, a),
            (IpAddr::V6(a), _, Some(ndisc)) => ndisc.send(self.mac, a),
            _ => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                format!(
                    "{address}: no announcer of its family open on {}",
                    self.name
                ),
            )),
        }
    }
}

/// The announcers for `vip` on interface `ifindex`, ready for its family:
/// the link's own when the address is on the link's interface, else the
/// set for its `dev`, opened on first use (and again after the interface
/// was re-created, as its index changes).
pub(super) fn announcers_for<'a>(
    link: &'a mut Link,
    others: &'a mut Vec<Announcers>,
    vip: &VirtualAddress,
    ifindex: u32,
) -> io::Result<&'a Announcers> {
    let announcers = if ifindex == link.ifindex {
        &mut link.announcers
    } else {
        let index = match others.iter().position(|a| a.ifindex == ifindex) {
            Some(index) => index,
            None => {
                let dev = vip.dev.as_deref().unwrap_or(&link.name);
                others.push(Announcers::for_interface(dev, ifindex)?);
                others.len() - 1
            }
        };
        &mut others[index]
    };
    announcers.open(vip.addr.is_ipv6())?;
    Ok(announcers)
}
