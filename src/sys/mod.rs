//! The thin system layer: moves bytes and changes kernel state, knows no
//! protocol rules (no VRRP parsing, no checksums). Written against libc/nix;
//! no threads, no shelling out.
//!
//! Sockets the loop polls are non-blocking and implement `AsRawFd`, for
//! `mio::unix::SourceFd`.

pub mod ah_socket;
pub mod arp;
pub mod clock;
pub mod fifo;
pub mod inotify;
pub mod interface;
pub mod link_monitor;
pub mod macvlan;
pub mod ndisc;
pub mod pidfile;
pub mod proc_events;
pub mod process;
mod raw_pair;
pub mod reexec;
pub mod replace_file;
pub mod rtnetlink;
pub mod rtnetlink_routes;
pub mod scheduling;
pub mod signals;
pub(crate) mod socket;
pub mod syslog;
pub mod timer;
pub mod vrrp6_socket;
pub mod vrrp_socket;
