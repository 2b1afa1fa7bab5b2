//! The VRRP advertisement: bytes <-> a typed [`Advert`], checksum included.
//!
//! VRRPv2 (RFC 3768 section 5.1):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Adver Int   |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         IP Address (1) ...                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (1)                   |
//! |                     Authentication Data (2)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The checksum covers the VRRP message only. Parsing is strict about the
//! length (the count of addresses decides it exactly) so that a packet that
//! lies about its size is dropped, never read past its end.

use std::fmt;
use std::net::Ipv4Addr;

use super::checksum;

/// The VRRP type of an advertisement; the only type there is.
const TYPE_ADVERTISEMENT: u8 = 1;
/// Fixed header before the addresses.
const HEADER_LEN: usize = 8;
/// VRRPv2 always carries 8 bytes of authentication data, even when unused.
const V2_AUTH_DATA_LEN: usize = 8;

/// The VRRPv2 authentication type octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    None,
    /// Type 1: a plain password of up to 8 bytes, zero padded.
    Password,
    /// Type 2: IP Authentication Header (obsolete; recognised, not used).
    Ah,
    Unknown(u8),
}

impl AuthType {
    fn from_octet(octet: u8) -> Self {
        match octet {
            0 => AuthType::None,
            1 => AuthType::Password,
            2 => AuthType::Ah,
            other => AuthType::Unknown(other),
        }
    }

    fn octet(self) -> u8 {
        match self {
            AuthType::None => 0,
            AuthType::Password => 1,
            AuthType::Ah => 2,
            AuthType::Unknown(other) => other,
        }
    }
}

/// A parsed VRRP advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub vrid: u8,
    pub priority: u8,
    /// The advertisement interval in centiseconds. VRRPv2 carries whole
    /// seconds, so here it is always a multiple of 100.
    pub interval_cs: u16,
    pub addresses: Vec<Ipv4Addr>,
    pub auth_type: AuthType,
    /// The 8 bytes after the addresses, as received.
    pub auth_data: [u8; 8],
}

/// Why a packet is not a well-formed advertisement. Each kind has its own
/// counter in the daemon's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertError {
    /// Shorter than the fixed header, or than its address count says.
    Truncated,
    /// Longer than its address count says.
    TrailingBytes,
    UnsupportedVersion(u8),
    UnknownType(u8),
    BadChecksum,
    /// An interval of zero, which no timer can run on.
    ZeroInterval,
}

impl fmt::Display for AdvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdvertError::Truncated => f.write_str("truncated advertisement"),
            AdvertError::TrailingBytes => {
                f.write_str("advertisement longer than its address count")
            }
            AdvertError::UnsupportedVersion(v) => write!(f, "unsupported VRRP version {v}"),
            AdvertError::UnknownType(t) => write!(f, "unknown VRRP packet type {t}"),
            AdvertError::BadChecksum => f.write_str("bad VRRP checksum"),
            AdvertError::ZeroInterval => f.write_str("advertisement interval of zero"),
        }
    }
}

impl Advert {
    /// The number of bytes [`Advert::emit`] writes.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN + 4 * self.addresses.len() + V2_AUTH_DATA_LEN
    }

    /// Parses a VRRPv2 message (the IP payload, without the IP header).
    pub fn parse(bytes: &[u8]) -> Result<Advert, AdvertError> {
        if bytes.len() < HEADER_LEN {
            return Err(AdvertError::Truncated);
        }
        let version = bytes[0] >> 4;
        if version != 2 {
            return Err(AdvertError::UnsupportedVersion(version));
        }
        let kind = bytes[0] & 0x0f;
        if kind != TYPE_ADVERTISEMENT {
            return Err(AdvertError::UnknownType(kind));
        }
        let count = usize::from(bytes[3]);
        let expected = HEADER_LEN + 4 * count + V2_AUTH_DATA_LEN;
        if bytes.len() < expected {
            return Err(AdvertError::Truncated);
        }
        if bytes.len() > expected {
            return Err(AdvertError::TrailingBytes);
        }
        if checksum::checksum(bytes) != 0 {
            return Err(AdvertError::BadChecksum);
        }
        if bytes[5] == 0 {
            return Err(AdvertError::ZeroInterval);
        }
        let addresses = bytes[HEADER_LEN..HEADER_LEN + 4 * count]
            .chunks_exact(4)
            .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]))
            .collect();
        let mut auth_data = [0u8; 8];
        auth_data.copy_from_slice(&bytes[expected - V2_AUTH_DATA_LEN..expected]);
        Ok(Advert {
            vrid: bytes[1],
            priority: bytes[2],
            interval_cs: u16::from(bytes[5]) * 100,
            addresses,
            auth_type: AuthType::from_octet(bytes[4]),
            auth_data,
        })
    }

    /// Writes the message into `buf` (which must be at least
    /// [`Advert::wire_len`] long), checksum included, and returns the length.
    ///
    /// At most 255 addresses fit the count octet; the config layer keeps
    /// instances below that, and extra ones are not sent.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let count = self.addresses.len().min(255);
        let len = HEADER_LEN + 4 * count + V2_AUTH_DATA_LEN;
        let buf = &mut buf[..len];
        buf[0] = (2 << 4) | TYPE_ADVERTISEMENT;
        buf[1] = self.vrid;
        buf[2] = self.priority;
        buf[3] = count as u8;
        buf[4] = self.auth_type.octet();
        // Whole seconds on the wire; never 0, which receivers reject.
        buf[5] = (self.interval_cs / 100).clamp(1, 255) as u8;
        buf[6] = 0;
        buf[7] = 0;
        for (slot, addr) in buf[HEADER_LEN..]
            .chunks_exact_mut(4)
            .zip(&self.addresses[..count])
        {
            slot.copy_from_slice(&addr.octets());
        }
        buf[len - V2_AUTH_DATA_LEN..].copy_from_slice(&self.auth_data);
        let sum = checksum::checksum(buf);
        buf[6..8].copy_from_slice(&sum.to_be_bytes());
        len
    }

    /// [`Advert::emit`] into a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = vec![0u8; self.wire_len()];
        let len = self.emit(&mut buf);
        buf.truncate(len);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VRRPv2 advert as Debian's keepalived 2.2.7 sent it on a test LAN:
    /// VRID 50, priority 150, one address 192.0.2.100, PASS "1111", 1 s
    /// (the IP header removed; tests/fixtures/captures/ has the capture).
    const KEEPALIVED_V2: [u8; 20] = [
        0x21, 0x32, 0x96, 0x01, 0x01, 0x01, 0x23, 0x04, 0xc0, 0x00, 0x02, 0x64, 0x31, 0x31, 0x31,
        0x31, 0x00, 0x00, 0x00, 0x00,
    ];

    fn keepalived_advert() -> Advert {
        let mut auth_data = [0u8; 8];
        auth_data[..4].copy_from_slice(b"1111");
        Advert {
            vrid: 50,
            priority: 150,
            interval_cs: 100,
            addresses: vec![Ipv4Addr::new(192, 0, 2, 100)],
            auth_type: AuthType::Password,
            auth_data,
        }
    }

    #[test]
    fn parses_keepalived_capture() {
        assert_eq!(Advert::parse(&KEEPALIVED_V2), Ok(keepalived_advert()));
    }

    #[test]
    fn emits_keepalived_capture_byte_for_byte() {
        assert_eq!(keepalived_advert().to_bytes(), KEEPALIVED_V2.to_vec());
    }

    #[test]
    fn rejects_bad_checksum() {
        let mut bytes = KEEPALIVED_V2;
        bytes[2] = 151;
        assert_eq!(Advert::parse(&bytes), Err(AdvertError::BadChecksum));
    }

    #[test]
    fn rejects_every_truncation_without_panicking() {
        for len in 0..KEEPALIVED_V2.len() {
            assert_eq!(
                Advert::parse(&KEEPALIVED_V2[..len]),
                Err(AdvertError::Truncated),
                "len {len}"
            );
        }
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut bytes = KEEPALIVED_V2.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Advert::parse(&bytes), Err(AdvertError::TrailingBytes));
    }

    #[test]
    fn rejects_count_past_the_end() {
        let mut bytes = KEEPALIVED_V2;
        bytes[3] = 200;
        assert_eq!(Advert::parse(&bytes), Err(AdvertError::Truncated));
    }

    #[test]
    fn rejects_other_versions_and_types() {
        let mut bytes = KEEPALIVED_V2;
        bytes[0] = 0x31;
        assert_eq!(
            Advert::parse(&bytes),
            Err(AdvertError::UnsupportedVersion(3))
        );
        bytes[0] = 0x22;
        assert_eq!(Advert::parse(&bytes), Err(AdvertError::UnknownType(2)));
    }

    #[test]
    fn rejects_zero_interval_with_a_good_checksum() {
        let mut advert = keepalived_advert();
        advert.interval_cs = 100;
        let mut bytes = advert.to_bytes();
        bytes[5] = 0;
        bytes[6] = 0;
        bytes[7] = 0;
        let sum = checksum::checksum(&bytes);
        bytes[6..8].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(Advert::parse(&bytes), Err(AdvertError::ZeroInterval));
    }

    #[test]
    fn round_trips_many_addresses() {
        let advert = Advert {
            vrid: 7,
            priority: 255,
            interval_cs: 300,
            addresses: (1..=20).map(|i| Ipv4Addr::new(198, 51, 100, i)).collect(),
            auth_type: AuthType::None,
            auth_data: [0; 8],
        };
        assert_eq!(Advert::parse(&advert.to_bytes()), Ok(advert));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap deterministic sweep; the fuzzing issue goes further.
        let mut state = 0x2545_f491_u32;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let len = (state % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 24)) as u8).collect();
            let _ = Advert::parse(&bytes);
        }
    }
}
