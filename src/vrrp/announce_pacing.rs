//! keepalived's spacing of announcements on an interface
//! (`vrrp_garp_interval`, `vrrp_gna_interval`): at least that long between
//! two gratuitous ARPs (unsolicited NAs) on one interface, whichever
//! instance sends them. Watched in keepalived 2.2.7 with tcpdump:
//!
//! - the first of a burst goes at once, if the interface has been quiet
//!   for the interval;
//! - the others wait their turn, one per interval, in configuration order
//!   (instance, then address);
//! - an address already waiting is not queued twice: a burst of
//!   `garp_master_repeat 5` for one address is two packets one interval
//!   apart, and for two addresses three (A at once, then A, then B);
//! - ARP and NA are spaced apart from each other.
//!
//! This file decides only when: the daemon sends.

use std::collections::BTreeSet;

use super::timers::Micros;

/// Where the spacing applies: one interface, one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lane {
    pub ifindex: u32,
    pub ipv6: bool,
}

struct LaneState<K> {
    lane: Lane,
    spacing: Micros,
    /// When the next packet may go.
    next_free: Micros,
    pending: BTreeSet<K>,
}

/// The announcements waiting for their interface, by key (the daemon's
/// instance and address positions, which order them as keepalived does).
pub struct AnnouncePacer<K> {
    lanes: Vec<LaneState<K>>,
}

impl<K> Default for AnnouncePacer<K> {
    fn default() -> Self {
        AnnouncePacer { lanes: Vec::new() }
    }
}

impl<K: Ord + Copy> AnnouncePacer<K> {
    /// One announcement of `key` on `lane`: true to send it now; false if
    /// it waits (or already waited) for `pop_due`.
    pub fn request(&mut self, now: Micros, lane: Lane, spacing: Micros, key: K) -> bool {
        if spacing == 0 {
            return true;
        }
        let state = match self.lanes.iter().position(|l| l.lane == lane) {
            Some(at) => &mut self.lanes[at],
            None => {
                self.lanes.push(LaneState {
                    lane,
                    spacing,
                    next_free: 0,
                    pending: BTreeSet::new(),
                });
                self.lanes.last_mut().expect("just pushed")
            }
        };
        state.spacing = spacing;
        if state.pending.is_empty() && now >= state.next_free {
            state.next_free = now + spacing;
            return true;
        }
        state.pending.insert(key);
        false
    }

    /// The next waiting announcement whose turn has come, taken off its
    /// queue (call until None).
    pub fn pop_due(&mut self, now: Micros) -> Option<(Lane, K)> {
        let state = self
            .lanes
            .iter_mut()
            .find(|l| now >= l.next_free && !l.pending.is_empty())?;
        let key = state.pending.pop_first()?;
        state.next_free = now + state.spacing;
        let lane = state.lane;
        // Quiet lanes are forgotten: a re-created interface has a new index.
        self.lanes
            .retain(|l| !l.pending.is_empty() || l.next_free > now);
        Some((lane, key))
    }

    /// When the next waiting announcement is due.
    pub fn poll_timeout(&self) -> Option<Micros> {
        self.lanes
            .iter()
            .filter(|l| !l.pending.is_empty())
            .map(|l| l.next_free)
            .min()
    }

    /// Drops every waiting announcement `keep` refuses (an instance that
    /// left master, a configuration reloaded).
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        for lane in &mut self.lanes {
            lane.pending.retain(&mut keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH0_V4: Lane = Lane {
        ifindex: 2,
        ipv6: false,
    };
    const ETH0_V6: Lane = Lane {
        ifindex: 2,
        ipv6: true,
    };
    const MS: Micros = 1000;

    /// Drives the pacer to `until`, waking at each deadline; (time, key)
    /// of each packet sent, the immediate ones included.
    fn run(
        pacer: &mut AnnouncePacer<(usize, usize)>,
        sent_now: Vec<(Micros, (usize, usize))>,
        until: Micros,
    ) -> Vec<(Micros, (usize, usize))> {
        let mut sent = sent_now;
        while let Some(at) = pacer.poll_timeout().filter(|t| *t <= until) {
            while let Some((_, key)) = pacer.pop_due(at) {
                sent.push((at, key));
            }
        }
        sent
    }

    /// A burst of `repeat` for each of `addresses` of instance 0, as the
    /// daemon asks: every packet for the first address, then the next.
    fn burst(
        pacer: &mut AnnouncePacer<(usize, usize)>,
        now: Micros,
        lane: Lane,
        addresses: &[usize],
        repeat: usize,
    ) -> Vec<(Micros, (usize, usize))> {
        let mut sent = Vec::new();
        for &at in addresses {
            for _ in 0..repeat {
                if pacer.request(now, lane, 50 * MS, (0, at)) {
                    sent.push((now, (0, at)));
                }
            }
        }
        sent
    }

    #[test]
    fn without_spacing_everything_goes_at_once() {
        let mut pacer = AnnouncePacer::default();
        for _ in 0..5 {
            assert!(pacer.request(0, ETH0_V4, 0, (0, 0)));
        }
        assert_eq!(pacer.poll_timeout(), None);
    }

    #[test]
    fn a_burst_for_one_address_is_two_packets_one_interval_apart() {
        let mut pacer = AnnouncePacer::default();
        let now = 1_000 * MS;
        let sent = burst(&mut pacer, now, ETH0_V4, &[0], 5);
        let sent = run(&mut pacer, sent, now + 10_000 * MS);
        assert_eq!(sent, [(now, (0, 0)), (now + 50 * MS, (0, 0))]);
    }

    #[test]
    fn two_addresses_go_a_then_a_then_b_as_keepalived_sends_them() {
        let mut pacer = AnnouncePacer::default();
        let now = 1_000 * MS;
        let sent = burst(&mut pacer, now, ETH0_V4, &[0, 1], 5);
        let sent = run(&mut pacer, sent, now + 10_000 * MS);
        assert_eq!(
            sent,
            [
                (now, (0, 0)),
                (now + 50 * MS, (0, 0)),
                (now + 100 * MS, (0, 1))
            ]
        );
    }

    #[test]
    fn instances_share_their_interface_s_spacing_in_configuration_order() {
        let mut pacer = AnnouncePacer::default();
        let now = 1_000 * MS;
        // Instance 1 first, then instance 0, one packet each per address.
        let mut sent = Vec::new();
        for key in [(1, 0), (0, 0), (0, 1), (0, 2)] {
            if pacer.request(now, ETH0_V4, 50 * MS, key) {
                sent.push((now, key));
            }
        }
        let sent = run(&mut pacer, sent, now + 10_000 * MS);
        let keys: Vec<_> = sent.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, [(1, 0), (0, 0), (0, 1), (0, 2)]);
        let times: Vec<_> = sent.iter().map(|(t, _)| t - now).collect();
        assert_eq!(times, [0, 50 * MS, 100 * MS, 150 * MS]);
    }

    #[test]
    fn arp_and_na_are_spaced_apart_and_a_quiet_interface_sends_at_once() {
        let mut pacer = AnnouncePacer::default();
        assert!(pacer.request(0, ETH0_V4, 50 * MS, (0, 0)));
        assert!(pacer.request(0, ETH0_V6, 30 * MS, (1, 0)));
        assert!(!pacer.request(10 * MS, ETH0_V4, 50 * MS, (0, 0)));
        assert_eq!(pacer.poll_timeout(), Some(50 * MS));
        assert_eq!(pacer.pop_due(49 * MS), None);
        assert_eq!(pacer.pop_due(50 * MS), Some((ETH0_V4, (0, 0))));
        assert_eq!(pacer.poll_timeout(), None);
        // A second later the interface is quiet again.
        assert!(pacer.request(1_050 * MS, ETH0_V4, 50 * MS, (0, 0)));
    }

    #[test]
    fn dropped_announcements_are_not_sent() {
        let mut pacer = AnnouncePacer::default();
        assert!(pacer.request(0, ETH0_V4, 50 * MS, (0, 0)));
        assert!(!pacer.request(0, ETH0_V4, 50 * MS, (0, 1)));
        assert!(!pacer.request(0, ETH0_V4, 50 * MS, (1, 0)));
        pacer.retain(|(instance, _)| *instance != 0);
        assert_eq!(pacer.pop_due(50 * MS), Some((ETH0_V4, (1, 0))));
        assert_eq!(pacer.poll_timeout(), None);
    }
}
