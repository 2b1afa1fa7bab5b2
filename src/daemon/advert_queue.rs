//! Adverts that fall due together leave together. The state machines'
//! actions queue their adverts here, encoded; a flush sends each link's run
//! of them with one sendmmsg. With 100 masters whose timers share a wakeup
//! that is two system calls instead of a hundred.
//!
//! Order is kept: the queue is flushed before any other action (a VIP, a
//! gratuitous ARP, a state change) is carried out, so an advert never
//! trails what it announces.

use std::net::{IpAddr, Ipv4Addr};

use log::debug;

use super::dump::stats_of;
use super::links::LinkId;
use super::Daemon;
use crate::sys::socket::SEND_BATCH;

#[derive(Default)]
pub(super) struct AdvertQueue {
    /// The encoded adverts, back to back. Capacity is kept across flushes,
    /// so the steady state allocates nothing.
    bytes: Vec<u8>,
    queued: Vec<Queued>,
}

struct Queued {
    instance: usize,
    link: LinkId,
    start: usize,
    len: usize,
    destination: IpAddr,
}

impl AdvertQueue {
    /// Queues one advert of `len` bytes, which `encode` writes into the
    /// buffer it is given and whose length it returns.
    pub(super) fn push(
        &mut self,
        instance: usize,
        link: LinkId,
        destination: IpAddr,
        len: usize,
        encode: impl FnOnce(&mut [u8]) -> usize,
    ) {
        let start = self.bytes.len();
        self.bytes.resize(start + len, 0);
        let written = encode(&mut self.bytes[start..]);
        debug_assert_eq!(written, len, "the advert's wire_len and emit disagree");
        self.queued.push(Queued {
            instance,
            link,
            start,
            len,
            destination,
        });
    }
}

impl Daemon {
    /// Sends everything queued, in order, one system call per run of up to
    /// SEND_BATCH adverts on the same link. A failed advert is counted and
    /// skipped; the rest still go.
    pub(super) fn flush_adverts(&mut self) {
        let AdvertQueue { bytes, queued } = &mut self.adverts;
        let mut next = 0;
        while next < queued.len() {
            let link = queued[next].link;
            let run = queued[next..]
                .iter()
                .take(SEND_BATCH)
                .take_while(|q| q.link == link);
            let mut messages = [(&[][..], IpAddr::V4(Ipv4Addr::UNSPECIFIED)); SEND_BATCH];
            let mut count = 0;
            for q in run {
                messages[count] = (&bytes[q.start..q.start + q.len], q.destination);
                count += 1;
            }
            let sent = match self.links.get(link) {
                Some(socket) => socket.send_batch(&messages[..count]),
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the link was closed",
                )),
            };
            match sent {
                Ok(sent) => {
                    self.counters.adverts_sent += sent as u64;
                    for q in &queued[next..next + sent] {
                        let name = &self.instances[q.instance].config.name;
                        stats_of(&mut self.instance_stats, name).advert_sent += 1;
                    }
                    next += sent;
                }
                Err(e) => {
                    self.counters.send_errors += 1;
                    let failed = &queued[next];
                    debug!(
                        "({}) advert to {} not sent: {e}",
                        self.instances[failed.instance].config.name, failed.destination,
                    );
                    next += 1;
                }
            }
        }
        bytes.clear();
        queued.clear();
    }
}
