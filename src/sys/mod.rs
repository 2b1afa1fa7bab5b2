//! The thin system layer: moves bytes and changes kernel state, knows no
//! protocol rules (no VRRP parsing, no checksums). Written against libc/nix;
//! no threads, no shelling out.

pub mod clock;
pub mod interface;
pub mod rtnetlink;
pub mod signals;
