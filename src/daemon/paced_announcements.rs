//! `vrrp_garp_interval` / `vrrp_gna_interval`: every announcement of a
//! virtual address asks here whether it goes now; those that must wait
//! go later from the loop's timers (see `vrrp::announce_pacing`), so a
//! spaced burst never blocks the loop.

use log::debug;

use super::announcers::announcers_for;
use super::Daemon;
use crate::config::AnnounceSpacing;
use crate::vrrp::announce_pacing::{AnnouncePacer, Lane};
use crate::vrrp::instance::State;
use crate::vrrp::timers::Micros;

/// An announcement's key: its instance's and its address's positions in
/// the configuration, the order keepalived sends waiting ones in.
type AddressKey = (usize, usize);

#[derive(Default)]
pub(super) struct AnnouncePacing {
    pacer: AnnouncePacer<AddressKey>,
    spacing: AnnounceSpacing,
}

impl AnnouncePacing {
    /// A new configuration: its spacing, and nothing waiting (positions
    /// may mean other addresses now).
    pub fn configure(&mut self, spacing: AnnounceSpacing) {
        self.spacing = spacing;
        self.pacer.retain(|_| false);
    }

    /// Whether address `at` of instance `index`, on `ifindex`, is to be
    /// announced now; if not, it is sent when its turn comes.
    pub fn send_now(
        &mut self,
        now: Micros,
        (index, at): AddressKey,
        ifindex: u32,
        ipv6: bool,
    ) -> bool {
        let spacing = if ipv6 {
            self.spacing.gna_us
        } else {
            self.spacing.garp_us
        };
        self.pacer
            .request(now, Lane { ifindex, ipv6 }, spacing, (index, at))
    }

    pub fn poll_timeout(&self) -> Option<Micros> {
        self.pacer.poll_timeout()
    }
}

impl Daemon {
    /// The waiting announcements whose turn has come, of addresses their
    /// instance still owns as master. The clock is read for each one, not
    /// taken from the start of the loop's pass: the spacing counts from
    /// the send, and a pass that started notify scripts first would
    /// otherwise shorten the gap after this send by the time they took.
    pub(super) fn send_due_announcements(&mut self) {
        while let Some((lane, (index, at))) = {
            let now = self.clock.now_us();
            self.announce_pacing.pacer.pop_due(now)
        } {
            let Some(instance) = self.instances.get(index) else {
                continue;
            };
            let (Some(vip), Some(&ifindex)) = (
                instance.config.virtual_addresses.get(at),
                instance.address_ifindex.get(at),
            ) else {
                continue;
            };
            if instance.machine.state() != State::Master || ifindex != lane.ifindex {
                continue;
            }
            let Some(link) = instance.link.and_then(|id| self.links.get_mut(id)) else {
                continue;
            };
            let sent = announcers_for(link, &mut self.dev_announcers, vip, ifindex)
                .and_then(|announcers| announcers.announce(vip.addr));
            if let Err(e) = sent {
                debug!(
                    "({}) announcement of {} not sent: {e}",
                    instance.config.name, vip.addr
                );
            }
        }
    }
}
