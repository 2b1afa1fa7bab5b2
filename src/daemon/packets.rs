//! Received packets: read in bounded batches, decoded by the core, handed
//! to the instance of their VRID, and every refusal counted.

use std::net::IpAddr;

use log::{info, warn};

use super::links::LinkId;
use super::stats::LogKey;
use super::{Daemon, READ_BATCH, RECV_BUFFER};
use crate::vrrp::discard::{decode_packet, Discard, RawPacket};
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
                Ok(Some(received)) => self.handle_packet(link, received.packet(&buf)),
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
        let mut actions = Vec::new();
        let instance = &mut self.instances[index];
        match instance
            .machine
            .handle_advert(now, received.source, &received.advert, &mut actions)
        {
            Ok(accepted) => {
                self.counters.adverts_received += 1;
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
