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

/// Links, one per key (interface, family, advert source).
#[derive(Default)]
pub(super) struct Links {
    by_id: BTreeMap<LinkId, Link>,
    next: usize,
}

impl Links {
    pub fn get(&self, id: LinkId) -> Option<&Link> {
        self.by_id.get(&id)
    }

    pub fn get_mut(&mut self, id: LinkId) -> Option<&mut Link> {
        self.by_id.get_mut(&id)
    }

    /// The link open for `key`, if any.
    pub fn find(&self, key: &LinkKey) -> Option<LinkId> {
        self.by_id
            .iter()
            .find(|(_, link)| &link.key == key)
            .map(|(id, _)| *id)
    }

    /// The link whose socket is registered under `token`.
    pub fn by_token(&mut self, token: Token) -> Option<&mut Link> {
        self.by_id.get_mut(&LinkId(token.0))
    }

    /// Adds a link under a handle never given out before.
    pub fn insert(&mut self, link: Link) -> LinkId {
        let id = LinkId(self.next);
        self.next += 1;
        self.by_id.insert(id, link);
        id
    }

    /// Replaces the link under `id` (its interface was re-created): the
    /// handle stays, and so do the instances and the token that use it.
    pub fn replace(&mut self, id: LinkId, link: Link) -> Option<Link> {
        let old = self.by_id.get_mut(&id)?;
        Some(std::mem::replace(old, link))
    }

    pub fn remove(&mut self, id: LinkId) -> Option<Link> {
        self.by_id.remove(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (LinkId, &Link)> {
        self.by_id.iter().map(|(id, link)| (*id, link))
    }

    /// The first link after `after` (from the start with None) that still
    /// has packets to read.
    pub fn next_to_read(&self, after: Option<LinkId>) -> Option<LinkId> {
        let from = after.map_or(0, |id| id.0 + 1);
        self.by_id
            .range(LinkId(from)..)
            .find(|(_, link)| link.more_to_read)
            .map(|(id, _)| *id)
    }

    pub fn any_to_read(&self) -> bool {
        self.by_id.values().any(|l| l.more_to_read)
    }
}
