//! The IPv4 header of a received VRRP packet.
//!
//! A raw IPv4 socket hands us the IP header with the payload. VRRP needs
//! three things from it: the source (the sender's identity and tie-breaker),
//! the TTL (must be 255: the packet cannot have crossed a router), and where
//! the payload ends (the IP total length, so Ethernet padding is ignored).

use std::net::Ipv4Addr;

/// The IP protocol number of VRRP.
pub const PROTOCOL_VRRP: u8 = 112;
/// The IPv4 multicast group of VRRP.
pub const VRRP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The only TTL a VRRP packet may carry (RFC 3768 section 7.1).
pub const VRRP_TTL: u8 = 255;
/// A header with 40 bytes of options, the most its 4-bit length allows.
pub const MAX_HEADER_LEN: usize = 60;

/// The header fields VRRP uses, and where the payload lies in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Header {
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub ttl: u8,
    pub protocol: u8,
    /// Byte range of the payload within the parsed buffer.
    pub payload: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Error {
    Truncated,
    NotIpv4,
    BadHeaderLength,
    /// A fragment: VRRP packets are tiny and never fragmented.
    Fragment,
}

impl Ipv4Header {
    pub fn parse(bytes: &[u8]) -> Result<Ipv4Header, Ipv4Error> {
        if bytes.len() < 20 {
            return Err(Ipv4Error::Truncated);
        }
        if bytes[0] >> 4 != 4 {
            return Err(Ipv4Error::NotIpv4);
        }
        let header_len = usize::from(bytes[0] & 0x0f) * 4;
        if header_len < 20 {
            return Err(Ipv4Error::BadHeaderLength);
        }
        let total_len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if total_len < header_len {
            return Err(Ipv4Error::BadHeaderLength);
        }
        if bytes.len() < total_len {
            return Err(Ipv4Error::Truncated);
        }
        let flags_fragment = u16::from_be_bytes([bytes[6], bytes[7]]);
        // More-fragments set, or a non-zero offset.
        if flags_fragment & 0x3fff != 0 {
            return Err(Ipv4Error::Fragment);
        }
        Ok(Ipv4Header {
            ttl: bytes[8],
            protocol: bytes[9],
            source: Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]),
            destination: Ipv4Addr::new(bytes[16], bytes[17], bytes[18], bytes[19]),
            payload: header_len..total_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::vrrp::test_support::KEEPALIVED_PACKET;

    #[test]
    fn parses_keepalived_packet() {
        let header = Ipv4Header::parse(&KEEPALIVED_PACKET).unwrap();
        assert_eq!(header.source, Ipv4Addr::new(192, 0, 2, 11));
        assert_eq!(header.destination, VRRP_GROUP);
        assert_eq!(header.ttl, VRRP_TTL);
        assert_eq!(header.protocol, PROTOCOL_VRRP);
        assert_eq!(header.payload, 20..40);
    }

    #[test]
    fn ignores_ethernet_padding() {
        let mut padded = KEEPALIVED_PACKET.to_vec();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(Ipv4Header::parse(&padded).unwrap().payload, 20..40);
    }

    #[test]
    fn rejects_short_and_lying_packets() {
        assert_eq!(
            Ipv4Header::parse(&KEEPALIVED_PACKET[..19]),
            Err(Ipv4Error::Truncated)
        );
        assert_eq!(
            Ipv4Header::parse(&KEEPALIVED_PACKET[..39]),
            Err(Ipv4Error::Truncated)
        );
        let mut bad = KEEPALIVED_PACKET;
        bad[0] = 0x44;
        assert_eq!(Ipv4Header::parse(&bad), Err(Ipv4Error::BadHeaderLength));
        bad[0] = 0x65;
        assert_eq!(Ipv4Header::parse(&bad), Err(Ipv4Error::NotIpv4));
        let mut fragment = KEEPALIVED_PACKET;
        fragment[6] = 0x20;
        assert_eq!(Ipv4Header::parse(&fragment), Err(Ipv4Error::Fragment));
    }
}
