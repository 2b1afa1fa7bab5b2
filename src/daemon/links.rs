//! Every open link of the daemon, each under a handle that it keeps for its
//! whole life. A reload closes the links no instance uses any more and
//! opens the new ones, but never moves the others: an instance (and the
//! mio token of the link's socket) keeps pointing at the same interface.
//! Handles are never reused, so a handle of a closed link finds nothing
//! rather than another interface.

use std::collections::BTreeMap;

use mio::Token;

use super::link::{Link, LinkKey};

/// The handle of one link; its socket is registered under `token()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct LinkId(usize);

impl LinkId {
    pub fn token(self) -> Token {
        Token(self.0)
    }
}

/// What the map needs to know of a link (a trait so that the map's rules
/// can be tested without sockets).
pub(super) trait Entry {
    fn key(&self) -> &LinkKey;
    fn more_to_read(&self) -> bool;
}

impl Entry for Link {
    fn key(&self) -> &LinkKey {
        &self.key
    }

    fn more_to_read(&self) -> bool {
        self.more_to_read
    }
}

/// Links, one per key (interface, family, advert source).
pub(super) struct Links<L = Link> {
    by_id: BTreeMap<LinkId, L>,
    next: usize,
}

impl<L> Default for Links<L> {
    fn default() -> Self {
        Links {
            by_id: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<L: Entry> Links<L> {
    pub fn get(&self, id: LinkId) -> Option<&L> {
        self.by_id.get(&id)
    }

    pub fn get_mut(&mut self, id: LinkId) -> Option<&mut L> {
        self.by_id.get_mut(&id)
    }

    /// The link open for `key`, if any.
    pub fn find(&self, key: &LinkKey) -> Option<LinkId> {
        self.by_id
            .iter()
            .find(|(_, link)| link.key() == key)
            .map(|(id, _)| *id)
    }

    /// The link whose socket is registered under `token`.
    pub fn by_token(&mut self, token: Token) -> Option<&mut L> {
        self.by_id.get_mut(&LinkId(token.0))
    }

    /// Adds a link under a handle never given out before.
    pub fn insert(&mut self, link: L) -> LinkId {
        let id = LinkId(self.next);
        self.next += 1;
        self.by_id.insert(id, link);
        id
    }

    /// Replaces the link under `id` (its interface was re-created): the
    /// handle stays, and so do the instances and the token that use it.
    pub fn replace(&mut self, id: LinkId, link: L) -> Option<L> {
        let old = self.by_id.get_mut(&id)?;
        Some(std::mem::replace(old, link))
    }

    pub fn remove(&mut self, id: LinkId) -> Option<L> {
        self.by_id.remove(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (LinkId, &L)> {
        self.by_id.iter().map(|(id, link)| (*id, link))
    }

    /// The first link after `after` (from the start with None) that still
    /// has packets to read.
    pub fn next_to_read(&self, after: Option<LinkId>) -> Option<LinkId> {
        let from = after.map_or(0, |id| id.0 + 1);
        self.by_id
            .range(LinkId(from)..)
            .find(|(_, link)| link.more_to_read())
            .map(|(id, _)| *id)
    }

    pub fn any_to_read(&self) -> bool {
        self.by_id.values().any(|l| l.more_to_read())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        key: LinkKey,
        more_to_read: bool,
    }

    impl Entry for Fake {
        fn key(&self) -> &LinkKey {
            &self.key
        }

        fn more_to_read(&self) -> bool {
            self.more_to_read
        }
    }

    fn fake(name: &str) -> Fake {
        Fake {
            key: (name.to_string(), false, None, Default::default()),
            more_to_read: false,
        }
    }

    fn key(name: &str) -> LinkKey {
        (name.to_string(), false, None, Default::default())
    }

    /// What a reload does: the first link closes, the others keep their
    /// handle (and token), and a handle of the closed one finds nothing,
    /// not the link that came after it.
    #[test]
    fn handles_survive_the_removal_of_others_and_are_never_reused() {
        let mut links = Links::default();
        let eth0 = links.insert(fake("eth0"));
        let eth1 = links.insert(fake("eth1"));
        assert_eq!(links.remove(eth0).map(|l| l.key), Some(key("eth0")));
        let eth2 = links.insert(fake("eth2"));
        assert!(links.get(eth0).is_none());
        assert_eq!(links.get(eth1).map(|l| l.key.clone()), Some(key("eth1")));
        assert_eq!(links.find(&key("eth1")), Some(eth1));
        assert_eq!(links.find(&key("eth2")), Some(eth2));
        assert!(links.by_token(eth0.token()).is_none());
        assert_ne!(eth2, eth0);
        assert_ne!(eth2.token(), eth1.token());
    }

    #[test]
    fn a_replaced_link_keeps_its_handle() {
        let mut links = Links::default();
        let eth0 = links.insert(fake("eth0"));
        let old = links.replace(eth0, fake("eth0"));
        assert!(old.is_some());
        assert_eq!(links.find(&key("eth0")), Some(eth0));
        assert!(links.replace(LinkId(99), fake("eth9")).is_none());
    }

    #[test]
    fn links_with_packets_waiting_are_visited_in_turn() {
        let mut links = Links::default();
        let a = links.insert(fake("a"));
        let b = links.insert(fake("b"));
        let c = links.insert(fake("c"));
        assert!(!links.any_to_read());
        for id in [a, c] {
            links.get_mut(id).unwrap().more_to_read = true;
        }
        assert!(links.any_to_read());
        assert_eq!(links.next_to_read(None), Some(a));
        assert_eq!(links.next_to_read(Some(a)), Some(c));
        assert_eq!(links.next_to_read(Some(c)), None);
        links.remove(b);
        assert_eq!(links.next_to_read(Some(a)), Some(c));
    }
}
