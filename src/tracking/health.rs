//! `rise` / `fall`: a check changes its mind only after that many results
//! in a row, so one slow or flaky run does not move a VIP.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    rise: u32,
    fall: u32,
    up: bool,
    /// Results in a row that disagree with `up`.
    against: u32,
}

impl Health {
    /// Starts up, or down with `init_fail`.
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Health {
        Health {
            rise: rise.max(1),
            fall: fall.max(1),
            up: !init_fail,
            against: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Records one result; true when it changed whether the check is up.
    pub fn record(&mut self, success: bool) -> bool {
        if success == self.up {
            self.against = 0;
            return false;
        }
        self.against += 1;
        let needed = if self.up { self.fall } else { self.rise };
        if self.against >= needed {
            self.up = success;
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
        let mut h = Health::new(2, 1, true);
        assert!(!h.is_up());
        assert!(!h.record(true));
        assert!(h.record(true));
        assert!(h.is_up());
        assert!(h.record(false), "fall 1: one failure is enough");
    }
}
