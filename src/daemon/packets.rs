//! Received packets: read in bounded batches, decoded by the core, handed
//! to the instance of their VRID, and every refusal counted.

use std::net::IpAddr;

use log::{info, warn};

use super::dump::stats_of;
use super::links::LinkId;
use super::stats::LogKey;
use super::{Daemon, READ_BATCH, RECV_BUFFER};
use crate::config::{Authentication, InstanceConfig};
use crate::vrrp::ah::{self, AhCounters};
use crate::vrrp::discard::{check_destination, decode_packet, Discard, RawPacket};
use crate::vrrp::instance::PRIORITY_STOPPING;
use crate::vrrp::timers::Micros;

impl Daemon {
    /// Reads at most one batch from a link's socket.
    pub(super) fn read_link(&mut self, link: LinkId) {
        let mut buf = [0u8; RECV_BUFFER];
        for _ in 0..READ_BATCH {
            let Some(socket) = self.links.get_mut(link) else {
                return;
            };
            match socket.recv(&mut buf) {
                Ok(Some(received)) => match received.packet(&buf) {
                    Ok(packet) => self.handle_packet(link, packet),
                    Err(reason) => {
                        let now = self.clock.now_us();
                        self.discard(reason, None, now);
                    }
                },
                Ok(None) => {
                    socket.more_to_read = false;
                    return;
                }
                Err(e) => {
                    warn!("{}: receive error: {e}", socket.name);
                    socket.more_to_read = false;
                    return;
                }
            }
        }
    }

    fn handle_packet(&mut self, link: LinkId, packet: RawPacket<'_>) {
        let now = self.clock.now_us();
        let received = match decode_packet(packet) {
            Ok(received) => received,
            Err(reason) => return self.discard(reason, None, now),
        };
        let vrid = received.advert.vrid;
        let Some(index) = self
            .instances
            .iter()
            .position(|i| i.link == Some(link) && i.machine.vrid() == vrid)
        else {
            return self.discard(Discard::UnknownVrid, Some(received.source), now);
        };
        let group = match self.links.get(link) {
            Some(link) if !self.instances[index].machine.has_unicast_peers() => Some(link.group()),
            _ => None,
        };
        if let Err(reason) = check_destination(&received, group) {
            return self.discard(reason, Some(received.source), now);
        }
        let instance = &mut self.instances[index];
        if let Err(reason) = check_ah(&instance.config, packet, received.in_ah, &mut instance.ah) {
            return self.discard(reason, Some(received.source), now);
        }
        let mut actions = Vec::new();
        match instance
            .machine
            .handle_advert(now, received.source, &received.advert, &mut actions)
        {
            Ok(accepted) => {
                self.counters.adverts_received += 1;
                stats_of(&mut self.instance_stats, &instance.config.name).advert_rcvd += 1;
                if received.advert.priority == PRIORITY_STOPPING {
                    self.counters.priority_zero_received += 1;
                    // Rare in normal life, so keepalived's line is kept; but
                    // a peer stuck sending them must not flood the log.
                    if self.log_limiter.allow(LogKey::PriorityZero, now).is_some() {
                        info!(
                            "({}) Backup received priority 0 advertisement",
                            instance.config.name
                        );
                    }
                }
                if accepted.address_list_differs {
                    self.counters.address_list_mismatch += 1;
                    if self
                        .log_limiter
                        .allow(LogKey::AddressListMismatch, now)
                        .is_some()
                    {
                        warn!(
                            "({}) advertisement from {} lists other virtual addresses than ours: accepted",
                            instance.config.name, received.source
                        );
                    }
                }
                if accepted.interval_differs
                    && self
                        .log_limiter
                        .allow(LogKey::IntervalMismatch, now)
                        .is_some()
                {
                    warn!(
                        "({}) advertisement from {} has interval {} cs, ours is {} cs: accepted (VRRPv3)",
                        instance.config.name,
                        received.source,
                        received.advert.interval_cs,
                        instance.config.advert_int_cs
                    );
                }
                self.execute(index, actions);
            }
            Err(reason) => self.discard(reason, Some(received.source), now),
        }
    }

    fn discard(&mut self, reason: Discard, source: Option<IpAddr>, now: Micros) {
        self.counters.discard(reason);
        // Our own adverts come back on some setups; not worth a line.
        if reason == Discard::OwnAdvert {
            return;
        }
        if let Some(suppressed) = self.log_limiter.allow(LogKey::Discard(reason), now) {
            let from = source.map(|s| format!(" from {s}")).unwrap_or_default();
            let more = if suppressed > 0 {
                format!(" ({suppressed} more since the last report)")
            } else {
                String::new()
            };
            warn!("dropped VRRP packet{from}: {reason}{more}");
        }
    }
}

/// An `auth_type AH` instance takes only adverts in an Authentication
/// Header, with its key and a new sequence number; the others take none.
fn check_ah(
    config: &InstanceConfig,
    packet: RawPacket<'_>,
    in_ah: bool,
    counters: &mut AhCounters,
) -> Result<(), Discard> {
    match (config.authentication, packet) {
        (Some(Authentication::Ah(key)), RawPacket::Ipv4(datagram)) if in_ah => {
            Ok(ah::authenticate(datagram, &key, counters)?)
        }
        (Some(Authentication::Ah(_)), _) => Err(Discard::AuthTypeMismatch),
        _ if in_ah => Err(Discard::AuthTypeMismatch),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::vrrp::advert::{Advert, Endpoints, Version};

    /// The longest legal advert: VRRPv3 with 255 IPv6 addresses (4088
    /// bytes; an IPv6 socket hands over the payload only).
    #[test]
    fn the_receive_buffer_holds_a_v3_advert_of_255_ipv6_addresses() {
        let source: Ipv6Addr = "fe80::1".parse().unwrap();
        let destination: Ipv6Addr = "ff02::12".parse().unwrap();
        let advert = Advert {
            version: Version::V3,
            vrid: 7,
            priority: 100,
            interval_cs: 100,
            addresses: (1..=255u16)
                .map(|i| IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, i)))
                .collect(),
        };
        let ends = Endpoints {
            source: source.into(),
            destination: destination.into(),
        };
        let bytes = advert.to_bytes(&ends);
        assert_eq!(bytes.len(), 8 + 255 * 16);
        assert!(bytes.len() <= RECV_BUFFER, "{} bytes", bytes.len());
        let mut buf = [0u8; RECV_BUFFER];
        buf[..bytes.len()].copy_from_slice(&bytes);
        let received = decode_packet(RawPacket::Ipv6 {
            payload: &buf[..bytes.len()],
            source,
            destination,
            hop_limit: 255,
        })
        .unwrap();
        assert_eq!(received.advert, advert);
    }
}
