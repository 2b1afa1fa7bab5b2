//! What tracked scripts and interfaces make of an instance: its effective
//! priority, or FAULT.

/// One tracked thing's weight and whether it is up now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    pub weight: i32,
    pub up: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fault,
    /// Base priority moved by the weights, kept within 1..=254.
    Priority(u8),
}

/// keepalived's rules: weight 0 and down is FAULT; a positive weight adds
/// while up; a negative weight subtracts while down.
pub fn verdict(base_priority: u8, tracked: impl IntoIterator<Item = Tracked>) -> Verdict {
    let mut priority = i32::from(base_priority);
    for t in tracked {
        match (t.weight, t.up) {
            (0, false) => return Verdict::Fault,
            (w, true) if w > 0 => priority += w,
            (w, false) if w < 0 => priority += w,
            _ => {}
        }
    }
    Verdict::Priority(priority.clamp(1, 254) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(weight: i32, up: bool) -> Tracked {
        Tracked { weight, up }
    }

    #[test]
    fn weights_follow_keepalived() {
        assert_eq!(verdict(100, [t(-20, true)]), Verdict::Priority(100));
        assert_eq!(verdict(100, [t(-20, false)]), Verdict::Priority(80));
        assert_eq!(verdict(100, [t(30, true)]), Verdict::Priority(130));
        assert_eq!(verdict(100, [t(30, false)]), Verdict::Priority(100));
        assert_eq!(verdict(100, [t(0, true)]), Verdict::Priority(100));
        assert_eq!(verdict(100, [t(-20, false), t(0, false)]), Verdict::Fault);
    }

    #[test]
    fn stays_within_1_and_254() {
        assert_eq!(verdict(10, [t(-60, false)]), Verdict::Priority(1));
        assert_eq!(verdict(250, [t(60, true)]), Verdict::Priority(254));
    }
}
