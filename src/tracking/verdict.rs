//! What tracked scripts and interfaces make of an instance: its effective
//! priority, or FAULT.

/// A tracked thing's `weight N [reverse]`.
///
/// keepalived's rules, checked against keepalived 2.2.7 (its log of the
/// effective priority): a positive weight is in force while the thing is
/// up, a negative one while it is down, and weight 0 means FAULT while it
/// is down. `reverse` keeps *when* a weight is in force and turns its sign
/// around (weight 10 reverse: -10 while up; weight -10 reverse: +10 while
/// down), and makes weight 0 mean FAULT while the thing is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weight {
    pub value: i32,
    pub reverse: bool,
}

/// What one tracked thing does to its instance right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Fault,
    /// Added to the priority (0: no change).
    Shift(i32),
}

impl Weight {
    pub fn new(value: i32, reverse: bool) -> Weight {
        Weight { value, reverse }
    }

    /// The effect while the tracked thing is `up` (or down, or None: it
    /// has not reported yet). keepalived 2.2.7 applies no weight to a check
    /// that has not reported (its adverts carry the base priority), but an
    /// instance whose weight-0 check has not reported does not run: it
    /// could not know whether it may serve.
    pub fn effect(self, up: Option<bool>) -> Effect {
        let Some(up) = up else {
            return match self.value {
                0 => Effect::Fault,
                _ => Effect::Shift(0),
            };
        };
        let sign = if self.reverse { -1 } else { 1 };
        match self.value {
            0 if up == self.reverse => Effect::Fault,
            0 => Effect::Shift(0),
            w if (w > 0) == up => Effect::Shift(sign * w),
            _ => Effect::Shift(0),
        }
    }
}

/// One tracked thing's weight and whether it is up now (None: a check
/// that has not reported yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    pub weight: Weight,
    pub up: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fault,
    /// Base priority moved by the weights, kept within 1..=254.
    Priority(u8),
}

/// The priority a verdict leaves, None for FAULT.
impl From<Verdict> for Option<u8> {
    fn from(verdict: Verdict) -> Option<u8> {
        match verdict {
            Verdict::Fault => None,
            Verdict::Priority(p) => Some(p),
        }
    }
}

/// The instance's state from everything it tracks: FAULT if any tracked
/// thing says so, else the base priority moved by every weight in force.
pub fn verdict(base_priority: u8, tracked: impl IntoIterator<Item = Tracked>) -> Verdict {
    verdict_of_effects(
        base_priority,
        tracked.into_iter().map(|t| t.weight.effect(t.up)),
    )
}

/// Like `verdict`, from effects already worked out (a tracked file's value
/// times its weight is not an up/down).
pub fn verdict_of_effects(base_priority: u8, effects: impl IntoIterator<Item = Effect>) -> Verdict {
    let mut priority = i64::from(base_priority);
    for effect in effects {
        match effect {
            Effect::Fault => return Verdict::Fault,
            Effect::Shift(by) => priority += i64::from(by),
        }
    }
    Verdict::Priority(priority.clamp(1, 254) as u8)
}

/// Whether a weight-0 check (the kind that decides whether the instance
/// may serve at all) has not reported yet: the instance waits in INIT.
pub fn awaiting_first_result(tracked: impl IntoIterator<Item = Tracked>) -> bool {
    tracked
        .into_iter()
        .any(|t| t.up.is_none() && t.weight.value == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(weight: i32, up: bool) -> Tracked {
        Tracked {
            weight: Weight::new(weight, false),
            up: Some(up),
        }
    }

    fn rev(weight: i32, up: bool) -> Tracked {
        Tracked {
            weight: Weight::new(weight, true),
            up: Some(up),
        }
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

    /// The figures keepalived 2.2.7 logged ("Changing effective priority")
    /// for each case, with base priority 100.
    #[test]
    fn reverse_turns_the_sign_and_keeps_the_condition() {
        assert_eq!(verdict(100, [rev(10, true)]), Verdict::Priority(90));
        assert_eq!(verdict(100, [rev(10, false)]), Verdict::Priority(100));
        assert_eq!(verdict(100, [rev(-10, true)]), Verdict::Priority(100));
        assert_eq!(verdict(100, [rev(-10, false)]), Verdict::Priority(110));
    }

    #[test]
    fn weight_0_reverse_is_fault_while_up() {
        assert_eq!(verdict(100, [rev(0, true)]), Verdict::Fault);
        assert_eq!(verdict(100, [rev(0, false)]), Verdict::Priority(100));
    }

    /// keepalived 2.2.7, watched before a slow check's first result: weight
    /// -50 and +50 instances advertised their base priority 100, a weight 0
    /// instance neither advertised nor became master.
    #[test]
    fn a_check_that_has_not_reported_holds_weight_0_and_moves_no_priority() {
        let unreported = |weight: i32, reverse: bool| Tracked {
            weight: Weight::new(weight, reverse),
            up: None,
        };
        assert_eq!(verdict(100, [unreported(0, false)]), Verdict::Fault);
        assert_eq!(verdict(100, [unreported(0, true)]), Verdict::Fault);
        assert_eq!(
            verdict(100, [unreported(-50, false)]),
            Verdict::Priority(100)
        );
        assert_eq!(
            verdict(100, [unreported(50, false)]),
            Verdict::Priority(100)
        );
        assert_eq!(verdict(100, [unreported(10, true)]), Verdict::Priority(100));
    }

    #[test]
    fn stays_within_1_and_254() {
        assert_eq!(verdict(10, [t(-60, false)]), Verdict::Priority(1));
        assert_eq!(verdict(250, [t(60, true)]), Verdict::Priority(254));
        assert_eq!(verdict(10, [rev(60, true)]), Verdict::Priority(1));
        assert_eq!(verdict(250, [rev(-60, false)]), Verdict::Priority(254));
    }
}
