//! `rise` / `fall`: a check changes its mind only after that many results
//! in a row, so one slow or flaky run does not move a VIP.
//!
//! Until its first result a check is neither up nor down, and that first
//! result decides at once, whatever rise and fall say: keepalived 2.2.7
//! logs "failed" (or "succeeded") on a check's first run with rise 3 and
//! fall 3. `init_fail` starts it down instead of unknown; its first result
//! still decides.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    rise: u32,
    fall: u32,
    /// None: no result yet (and no `init_fail`).
    up: Option<bool>,
    /// Whether a result came in since the start.
    reported: bool,
    /// Results in a row that disagree with `up`.
    against: u32,
}

/// What a hitless restart carries of a check's health, so that the new
/// image neither forgets a verdict nor restarts a rise or fall count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthReading {
    pub up: Option<bool>,
    pub reported: bool,
    pub against: u32,
}

impl Health {
    pub fn reading_to_save(&self) -> HealthReading {
        HealthReading {
            up: self.up,
            reported: self.reported,
            against: self.against,
        }
    }

    /// Takes up a reading saved by the previous image (rise and fall stay
    /// this config's).
    pub fn restore(&mut self, saved: HealthReading) {
        self.up = saved.up;
        self.reported = saved.reported;
        self.against = saved.against;
    }

    /// Starts unknown, or down with `init_fail`.
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Health {
        Health {
            rise: rise.max(1),
            fall: fall.max(1),
            up: init_fail.then_some(false),
            reported: false,
            against: 0,
        }
    }

    /// Up, down, or None before the first result.
    pub fn reading(&self) -> Option<bool> {
        self.up
    }

    pub fn is_up(&self) -> bool {
        self.up == Some(true)
    }

    /// Records one result; true when it changed what the check says (the
    /// first result always does: it ends "not reported yet").
    pub fn record(&mut self, success: bool) -> bool {
        if !self.reported {
            self.reported = true;
            self.up = Some(success);
            self.against = 0;
            return true;
        }
        if Some(success) == self.up {
            self.against = 0;
            return false;
        }
        self.against += 1;
        let needed = if self.is_up() { self.fall } else { self.rise };
        if self.against >= needed {
            self.up = Some(success);
            self.against = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_after_fall_failures_in_a_row() {
        let mut h = Health::new(2, 3, false);
        assert!(h.record(true), "the first result decides");
        assert!(!h.record(false));
        assert!(!h.record(false));
        assert!(!h.record(true), "a success resets the count");
        assert!(!h.record(false));
        assert!(!h.record(false));
        assert!(h.record(false));
        assert!(!h.is_up());
    }

    #[test]
    fn rises_after_rise_successes_in_a_row() {
        let mut h = Health::new(2, 1, false);
        assert!(h.record(false));
        assert!(!h.record(true));
        assert!(h.record(true));
        assert!(h.is_up());
        assert!(h.record(false), "fall 1: one failure is enough");
    }

    /// keepalived 2.2.7 with rise 3 and fall 3: "VRRP_Script(chk) failed"
    /// on the very first run of a failing check.
    #[test]
    fn the_first_result_decides_whatever_rise_and_fall_say() {
        let mut failing = Health::new(3, 3, false);
        assert_eq!(failing.reading(), None, "nothing reported yet");
        assert!(failing.record(false));
        assert_eq!(failing.reading(), Some(false));

        let mut passing = Health::new(3, 3, false);
        assert!(passing.record(true));
        assert_eq!(passing.reading(), Some(true));
    }

    /// init_fail starts down; a first success (rise 3) is enough to be up.
    #[test]
    fn init_fail_starts_down_and_the_first_result_still_decides() {
        let mut h = Health::new(3, 3, true);
        assert_eq!(h.reading(), Some(false));
        assert!(h.record(true));
        assert!(h.is_up());
    }

    #[test]
    fn a_restored_reading_keeps_its_count_towards_fall() {
        let mut old = Health::new(2, 3, false);
        old.record(true);
        old.record(false);
        old.record(false);
        let mut new = Health::new(2, 3, false);
        new.restore(old.reading_to_save());
        assert!(new.is_up());
        assert!(
            new.record(false),
            "the third failure in a row, across the restart"
        );
    }
}
