//! The pure VRRP core: the advert codec, the per-instance state machine and
//! its timer arithmetic. Nothing here reads a clock or touches a socket.

pub mod advert;
pub mod ah;
pub mod announce_pacing;
pub mod checksum;
pub mod discard;
pub mod instance;
pub mod ipv4;
pub mod md5;
pub mod restart_state;
pub mod simulation;
pub mod sync_group;
pub mod timers;

#[cfg(test)]
pub(crate) mod test_support;
