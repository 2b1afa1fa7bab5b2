//! keepvip: a VRRP daemon that reads the `vrrp_*` part of keepalived.conf.
//!
//! The crate has two layers. `config` and `vrrp` are the pure core: they
//! parse, decide and compute, and never touch the clock or a socket. `sys`
//! is the thin libc/nix layer (raw sockets, rtnetlink, AF_PACKET, signalfd)
//! that knows no protocol rules, and `daemon` is the one mio loop that wires
//! the two together.

pub mod config;
pub mod daemon;
pub mod explain;
pub mod json;
pub mod logging;
pub mod sys;
pub mod tracking;
pub mod vrrp;
