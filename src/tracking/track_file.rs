//! `track_file`: what the number in a tracked file does to an instance.
//!
//! keepalived 2.2.7's rules, watched on its log: the file holds a number
//! read as C's strtol with base 0 does (leading blanks and newlines
//! skipped, an optional sign, `0x` hex and leading-0 octal, anything after
//! the number ignored; no number at all is 0); a missing file is 0; a
//! number outside a C int is "Invalid number ... - ignoring" and the
//! previous value stays. The value times the weight (negated with
//! `reverse`) moves the priority; at -254 or below the instance is in
//! FAULT. With weight 0, any value but 0 is FAULT.

use super::verdict::Effect;

/// The lowest shift that still leaves a priority: -254 and below is FAULT
/// (so that `echo -254 > file` drains an instance of any priority).
const FAULT_AT_OR_BELOW: i64 = -254;

/// What a file's text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileValue {
    Number(i64),
    /// Outside a C int: keep the value read before.
    Invalid,
}

/// Reads the text of a tracked file as keepalived does.
pub fn parse_value(text: &str) -> FileValue {
    let rest = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let lower = rest.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = if lower.as_deref() == Some("0x")
        && rest[2..].starts_with(|c: char| c.is_ascii_hexdigit())
    {
        (16, &rest[2..])
    } else if rest.starts_with('0') {
        (8, rest)
    } else {
        (10, rest)
    };
    let mut magnitude: i64 = 0;
    for c in digits.chars() {
        let Some(digit) = c.to_digit(radix) else {
            break;
        };
        magnitude = magnitude
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(digit));
    }
    let value = if negative { -magnitude } else { magnitude };
    if i32::try_from(value).is_err() {
        return FileValue::Invalid;
    }
    FileValue::Number(value)
}

/// The effect of `value` under a tracking line's `weight [reverse]`.
pub fn effect(value: i64, weight: i32, reverse: bool) -> Effect {
    if weight == 0 {
        return if value == 0 {
            Effect::Shift(0)
        } else {
            Effect::Fault
        };
    }
    let mut shift = value.saturating_mul(i64::from(weight));
    if reverse {
        shift = -shift;
    }
    if shift <= FAULT_AT_OR_BELOW {
        return Effect::Fault;
    }
    Effect::Shift(shift.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// The text `init_file VALUE` writes.
pub fn init_text(value: i32) -> String {
    format!("{value}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use FileValue::*;

    /// What keepalived 2.2.7 made of each text (its "Changing effective
    /// priority" lines, weight 1).
    #[test]
    fn values_are_read_as_keepalived_reads_them() {
        assert_eq!(parse_value("-20\n"), Number(-20));
        assert_eq!(parse_value(" 7 \n"), Number(7));
        assert_eq!(parse_value("\n  8\n"), Number(8));
        assert_eq!(parse_value("10.5\n"), Number(10));
        assert_eq!(parse_value("20xyz"), Number(20));
        assert_eq!(parse_value("0x10\n"), Number(16));
        assert_eq!(parse_value("010\n"), Number(8));
        assert_eq!(parse_value("+3\n"), Number(3));
        assert_eq!(parse_value("1\n2\n"), Number(1));
        assert_eq!(parse_value("abc\n"), Number(0));
        assert_eq!(parse_value(""), Number(0));
        assert_eq!(parse_value(" -\n"), Number(0));
        assert_eq!(parse_value("-0\n"), Number(0));
        assert_eq!(parse_value("2147483647"), Number(2_147_483_647));
        assert_eq!(parse_value("-2147483648"), Number(-2_147_483_648));
        assert_eq!(parse_value("-2147483649"), Invalid);
        assert_eq!(parse_value("99999999999999\n"), Invalid);
        assert_eq!(parse_value("99999999999999999999999999"), Invalid);
    }

    #[test]
    fn the_value_times_the_weight_moves_the_priority() {
        assert_eq!(effect(-20, 1, false), Effect::Shift(-20));
        assert_eq!(effect(5, 2, false), Effect::Shift(10));
        assert_eq!(effect(-253, 1, false), Effect::Shift(-253));
        assert_eq!(effect(300, 1, false), Effect::Shift(300));
        assert_eq!(effect(5, 2, true), Effect::Shift(-10));
    }

    #[test]
    fn minus_254_or_below_is_fault() {
        assert_eq!(effect(-254, 1, false), Effect::Fault);
        assert_eq!(effect(-1000, 1, false), Effect::Fault);
        assert_eq!(effect(-127, 2, false), Effect::Fault);
        assert_eq!(effect(254, 1, true), Effect::Fault);
        assert_eq!(effect(i64::from(i32::MIN), 254, false), Effect::Fault);
    }

    #[test]
    fn weight_0_is_fault_on_any_value_but_0() {
        assert_eq!(effect(0, 0, false), Effect::Shift(0));
        assert_eq!(effect(1, 0, false), Effect::Fault);
        assert_eq!(effect(-1, 0, true), Effect::Fault);
    }
}
