//! Timer arithmetic of VRRP, in integer microseconds.
//!
//! Intervals are kept in centiseconds, the unit VRRPv3 carries (VRRPv2's
//! whole seconds are 100 of them), and every derived timer is computed here,
//! in one place, in microseconds: keepalived reports "Master down timer =
//! 3414062 usecs" for priority 150 at 1 s, and we match it to the
//! microsecond rather than rounding skew to centiseconds or seconds.

use crate::config::VrrpVersion;

/// Microseconds on the daemon's monotonic clock. The core never reads a
/// clock; callers pass the time in.
pub type Micros = u64;

pub const MICROS_PER_CENTISECOND: Micros = 10_000;
pub const MICROS_PER_SECOND: Micros = 1_000_000;

/// The timers that follow from a priority and an advertisement interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub advert_interval: Micros,
    /// Skew_Time: a backup's extra wait, shorter for higher priorities so the
    /// best backup takes over first.
    pub skew: Micros,
    /// Master_Down_Interval: how long a backup waits without adverts.
    pub master_down: Micros,
}

impl Timers {
    /// `master_down = 3 * interval + skew` in both versions; the skew is
    /// where they differ (see [`skew`]).
    pub fn new(version: VrrpVersion, priority: u8, interval_cs: u16) -> Timers {
        let advert_interval = Micros::from(interval_cs) * MICROS_PER_CENTISECOND;
        let skew = skew(version, priority, advert_interval);
        Timers {
            advert_interval,
            skew,
            master_down: 3 * advert_interval + skew,
        }
    }
}

/// Skew_Time: RFC 3768 6.1 has `(256 - priority) / 256` seconds whatever
/// the advert interval (keepalived too), RFC 5798 6.1 scales it with the
/// interval: `(256 - priority) * interval / 256`. Scaling it in VRRPv2
/// would make a keepvip backup at advert_int >= 2 wait longer than a lower
/// keepalived backup beside it, which then takes over first.
pub fn skew(version: VrrpVersion, priority: u8, advert_interval: Micros) -> Micros {
    let unit = match version {
        VrrpVersion::V2 => MICROS_PER_SECOND,
        VrrpVersion::V3 => advert_interval,
    };
    (256 - Micros::from(priority)) * unit / 256
}

#[cfg(test)]
mod tests {
    use super::*;
    use VrrpVersion::{V2, V3};

    #[test]
    fn matches_keepalived_master_down_for_priority_150() {
        // keepalived 2.2.7: "Master down timer = 3414062 usecs".
        assert_eq!(Timers::new(V2, 150, 100).master_down, 3_414_062);
    }

    #[test]
    fn priority_100_at_one_second() {
        let timers = Timers::new(V2, 100, 100);
        assert_eq!(timers.skew, 609_375);
        assert_eq!(timers.master_down, 3_609_375);
    }

    #[test]
    fn owner_has_almost_no_skew() {
        assert_eq!(Timers::new(V2, 255, 100).skew, 3_906);
    }

    #[test]
    fn sub_second_intervals_keep_their_skew() {
        // 0.1 s: skew must not truncate to zero as it would in whole units.
        let timers = Timers::new(V3, 100, 10);
        assert_eq!(timers.advert_interval, 100_000);
        assert_eq!(timers.skew, 60_937);
        assert_eq!(timers.master_down, 360_937);
    }

    #[test]
    fn longest_v2_interval_does_not_overflow() {
        let timers = Timers::new(V2, 1, 25_500);
        assert_eq!(timers.advert_interval, 255 * MICROS_PER_SECOND);
        assert_eq!(
            timers.master_down,
            765_000_000 + 255 * MICROS_PER_SECOND / 256
        );
    }

    #[test]
    fn longest_v3_interval_does_not_overflow() {
        // 4095 cs, the 12-bit field's largest.
        let timers = Timers::new(V3, 1, 4095);
        assert_eq!(timers.master_down, 122_850_000 + 255 * 40_950_000 / 256);
    }

    #[test]
    fn v2_skew_does_not_scale_with_the_interval() {
        // RFC 3768 6.1: (256 - 100) / 256 s at 1 s and at 3 s alike.
        assert_eq!(Timers::new(V2, 100, 300).skew, 609_375);
        assert_eq!(Timers::new(V2, 100, 300).master_down, 9_609_375);
    }

    #[test]
    fn v3_skew_scales_with_the_interval() {
        // RFC 5798 6.1: (256 - 100) * 3 s / 256.
        assert_eq!(Timers::new(V3, 100, 300).skew, 1_828_125);
        assert_eq!(Timers::new(V3, 100, 100), Timers::new(V2, 100, 100));
    }
}
