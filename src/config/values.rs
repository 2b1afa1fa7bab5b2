//! Checked reading of a statement's values. Every failure names the keyword
//! and what was expected, and the caller's span gives file and line.

use std::net::IpAddr;

use super::model::{ConfigError, RunAs, Span, Warning, WarningKind};
use super::syntax::Statement;

pub(crate) fn error_at(span: &Span, message: String) -> ConfigError {
    ConfigError {
        span: Some(span.clone()),
        message,
    }
}

/// A warning keepalived 2.2.7 gives too, or does not give at all: its
/// `-t` exits 0 for it.
pub(crate) fn warn_at(warnings: &mut Vec<Warning>, span: &Span, message: String) {
    warnings.push(Warning {
        span: span.clone(),
        message,
        kind: WarningKind::Accepted,
    });
}

/// A warning for what keepalived 2.2.7 reports as a config error (each
/// watched with its -t): both still run the config, but `-t` exits 5.
pub(crate) fn warn_keepalived_error_at(warnings: &mut Vec<Warning>, span: &Span, message: String) {
    warnings.push(Warning {
        span: span.clone(),
        message,
        kind: WarningKind::KeepalivedError,
    });
}

/// The warning for a keyword no reader knows (keepalived: "Unknown
/// keyword", a config error); its block (if any) is skipped with it.
pub(crate) fn warn_unsupported(warnings: &mut Vec<Warning>, statement: &Statement) {
    warn_unsupported_as(warnings, statement, WarningKind::KeepalivedError);
}

/// The warning for a keyword keepvip does not act on, counted as `kind`.
pub(crate) fn warn_unsupported_as(
    warnings: &mut Vec<Warning>,
    statement: &Statement,
    kind: WarningKind,
) {
    let skipped = if statement.block.is_some() {
        " (with its block)"
    } else {
        ""
    };
    warnings.push(Warning {
        span: statement.span.clone(),
        message: format!(
            "unknown/unsupported keyword '{}': not implemented by keepvip yet, ignored{}",
            statement.keyword, skipped
        ),
        kind,
    });
}

/// A statement that must have a `{ ... }` block.
pub(crate) fn block_of(statement: &Statement) -> Result<&[Statement], ConfigError> {
    statement.block.as_deref().ok_or_else(|| {
        error_at(
            &statement.span,
            format!("{}: expected '{{' to open a block", statement.keyword),
        )
    })
}

fn refuse_block(statement: &Statement) -> Result<(), ConfigError> {
    match statement.block {
        Some(_) => Err(error_at(
            &statement.span,
            format!("{}: does not take a '{{' block", statement.keyword),
        )),
        None => Ok(()),
    }
}

/// A keyword with no value, such as `nopreempt`.
pub(crate) fn flag(statement: &Statement, warnings: &mut Vec<Warning>) -> Result<(), ConfigError> {
    refuse_block(statement)?;
    if let Some(extra) = statement.args.first() {
        warn_at(
            warnings,
            &statement.span,
            format!("{}: takes no value, '{}' ignored", statement.keyword, extra),
        );
    }
    Ok(())
}

/// The single value of a statement; `expected` describes it for messages.
pub(crate) fn single<'s>(
    statement: &'s Statement,
    expected: &str,
    warnings: &mut Vec<Warning>,
) -> Result<&'s str, ConfigError> {
    refuse_block(statement)?;
    let Some(value) = statement.args.first() else {
        return Err(error_at(
            &statement.span,
            format!(
                "{}: missing argument, expected {}",
                statement.keyword, expected
            ),
        ));
    };
    if statement.args.len() > 1 {
        warn_at(
            warnings,
            &statement.span,
            format!(
                "{}: extra values after '{}' ignored",
                statement.keyword, value
            ),
        );
    }
    Ok(value)
}

pub(crate) fn expected_found(statement: &Statement, expected: &str, found: &str) -> ConfigError {
    error_at(
        &statement.span,
        format!(
            "{}: expected {}, found \"{}\"",
            statement.keyword, expected, found
        ),
    )
}

/// A plain decimal integer (no sign, no hex) within `min..=max`.
pub(crate) fn integer(
    statement: &Statement,
    min: u32,
    max: u32,
    warnings: &mut Vec<Warning>,
) -> Result<u32, ConfigError> {
    let expected = format!("an integer {min}..{max}");
    let text = single(statement, &expected, warnings)?;
    let value = text
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.parse::<u32>().ok())
        .flatten()
        .filter(|v| (min..=max).contains(v));
    value.ok_or_else(|| expected_found(statement, &expected, text))
}

/// A decimal integer with an optional sign, within `min..=max`; None if
/// the text is anything else. For weights, which may be negative.
pub(crate) fn signed_in_range(text: &str, min: i32, max: i32) -> Option<i32> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>().ok().filter(|v| (min..=max).contains(v))
}

/// Longest `interval`/`timeout` keepalived takes: 4294 s, the most
/// microseconds a u32 holds.
pub(crate) const MAX_SCRIPT_SECONDS: u64 = 4294;

/// Decimal seconds (`2`, `0.5`, `1.25`) in microseconds, more than 0 and
/// at most `MAX_SCRIPT_SECONDS`. Parsed by hand so that 0.1 s is exactly
/// 100000 us, with no float in between.
pub(crate) fn seconds_us(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<u64, ConfigError> {
    let expected = format!("seconds, more than 0 and at most {MAX_SCRIPT_SECONDS} (e.g. 2 or 0.5)");
    let text = single(statement, &expected, warnings)?;
    decimal_us(text)
        .filter(|us| (1..=MAX_SCRIPT_SECONDS * 1_000_000).contains(us))
        .ok_or_else(|| expected_found(statement, &expected, text))
}

/// Like `seconds_us`, but 0 (off) is allowed.
pub(crate) fn seconds_us_or_zero(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<u64, ConfigError> {
    let expected = format!("seconds, 0 to {MAX_SCRIPT_SECONDS} (e.g. 0.05)");
    let text = single(statement, &expected, warnings)?;
    decimal_us(text)
        .filter(|us| *us <= MAX_SCRIPT_SECONDS * 1_000_000)
        .ok_or_else(|| expected_found(statement, &expected, text))
}

/// Decimal seconds in microseconds, at most 6 decimals and 4 digits before
/// the point (more is out of every range anyway, and cannot overflow).
fn decimal_us(text: &str) -> Option<u64> {
    let (whole, fraction) = decimal_parts(text)?;
    if fraction.len() > 6 {
        return None;
    }
    let whole_s: u64 = match whole.trim_start_matches('0') {
        "" => 0,
        w if w.len() > 4 => return None,
        w => w.parse().ok()?,
    };
    let fraction_us: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<6}").parse().ok()?
    };
    Some(whole_s * 1_000_000 + fraction_us)
}

/// `USER [GROUP]` of `user` (in vrrp_script) and `script_user` (in
/// global_defs). Names are kept as written; they are looked up when a
/// script runs, so a config can be checked on another machine.
pub(crate) fn run_as(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<RunAs, ConfigError> {
    refuse_block(statement)?;
    let Some(user) = statement.args.first() else {
        return Err(error_at(
            &statement.span,
            format!(
                "{}: missing argument, expected a user name [and a group name]",
                statement.keyword
            ),
        ));
    };
    if statement.args.len() > 2 {
        warn_at(
            warnings,
            &statement.span,
            format!(
                "{}: extra values after '{}' ignored",
                statement.keyword,
                statement.args[..2].join(" ")
            ),
        );
    }
    Ok(RunAs {
        user: user.clone(),
        group: statement.args.get(1).cloned(),
    })
}

/// An IPv4 or IPv6 address.
pub(crate) fn ip_address(statement: &Statement, text: &str) -> Result<IpAddr, ConfigError> {
    text.parse::<IpAddr>()
        .map_err(|_| expected_found(statement, "an IPv4 or IPv6 address", text))
}

/// `advert_int` for VRRPv3, in centiseconds, which the v3 wire carries:
/// 0.01..=40.95 s. Longer is cut to 40.95 s with keepalived's warning;
/// digits past the centisecond round half up, with a warning.
pub(crate) fn advert_interval_v3_cs(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<u16, ConfigError> {
    const EXPECTED: &str = "seconds 0.01..40.95 (VRRPv3 centiseconds)";
    let text = single(statement, EXPECTED, warnings)?;
    let bad = || expected_found(statement, EXPECTED, text);
    let (whole, fraction) = decimal_parts(text).ok_or_else(bad)?;
    // keepalived's parser takes at most 255 s before the v3 check.
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok().filter(|w| *w <= 255).ok_or_else(bad)?
    };
    let digit = |i: usize| u32::from(fraction.as_bytes().get(i).map_or(0, |b| b - b'0'));
    let whole_cs = whole * 100 + digit(0) * 10 + digit(1);
    // keepalived refuses less than 0.01 s before it rounds.
    if whole_cs == 0 {
        return Err(bad());
    }
    // Past the centisecond, halves round up, as keepalived puts them on
    // the wire (0.015 -> 2 cs, 1.005 -> 101 cs); the decimal is read
    // digit by digit, so 1.005 is not the float just below it.
    let cs = whole_cs + u32::from(digit(2) >= 5);
    if fraction.bytes().skip(2).any(|b| b != b'0') {
        warn_keepalived_error_at(
            warnings,
            &statement.span,
            format!(
                "VRRPv3 advertisement interval {text}s must be in units of 10ms - \
                 rounding to {cs} cs"
            ),
        );
    }
    // The 12-bit interval field of the v3 header.
    let max = 4095;
    if cs > max {
        warn_keepalived_error_at(
            warnings,
            &statement.span,
            format!(
                "VRRPv3 advertisement interval {text}s is out of range. Must be less than \
                 40.96s. Setting to 40.95s"
            ),
        );
    }
    Ok(u16::try_from(cs.min(max)).unwrap_or(4095))
}

/// `advert_int` in centiseconds. keepalived takes decimal seconds but
/// VRRPv2 carries whole seconds, so a fraction is rounded to the nearest
/// second (halves up, at least 1) with a warning. keepalived 2.2.7 does
/// exactly this (1.2 -> 1, 1.5 -> 2, 0.2 -> 1); decimals are parsed by hand
/// so no float rounding can creep in.
pub(crate) fn advert_interval_cs(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<u16, ConfigError> {
    const EXPECTED: &str = "seconds 1..255 (VRRPv2 whole seconds)";
    let text = single(statement, EXPECTED, warnings)?;
    let bad = || expected_found(statement, EXPECTED, text);
    let (whole, fraction) = decimal_parts(text).ok_or_else(bad)?;
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction_is_zero = fraction.bytes().all(|b| b == b'0');
    // keepalived's accepted range is 0.01..=255 seconds.
    let below_a_centisecond = whole == 0 && fraction.bytes().take(2).all(|b| b == b'0');
    if whole > 255 || (whole == 255 && !fraction_is_zero) || below_a_centisecond {
        return Err(bad());
    }
    let rounds_up = fraction.as_bytes().first().is_some_and(|&b| b >= b'5');
    let seconds = (whole + u32::from(rounds_up)).max(1);
    if !fraction_is_zero {
        warn_keepalived_error_at(
            warnings,
            &statement.span,
            format!(
                "advert_int {text}: VRRPv2 advertisement interval must be an integer, \
                 rounded to {seconds} s (as keepalived does)"
            ),
        );
    }
    // seconds <= 255, so this fits in u16.
    Ok(u16::try_from(seconds * 100).unwrap_or(25500))
}

/// The digits before and after the point of a plain decimal (`2`, `0.5`,
/// `.25`, `3.`); None for anything else (signs, exponents, a lone `.`).
/// Callers parse the parts as integers, so no float rounding creeps in.
fn decimal_parts(text: &str) -> Option<(&str, &str)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let valid =
        !(whole.is_empty() && fraction.is_empty()) && all_digits(whole) && all_digits(fraction);
    valid.then_some((whole, fraction))
}

/// The name of a `KEYWORD NAME { ... }` block; extra values are warned
/// about and ignored, as keepalived does.
pub(crate) fn block_name(
    statement: &Statement,
    what: &str,
    warnings: &mut Vec<Warning>,
) -> Result<String, ConfigError> {
    let keyword = &statement.keyword;
    let Some(name) = statement.args.first().cloned() else {
        return Err(error_at(
            &statement.span,
            format!("{keyword}: missing argument, expected {what}"),
        ));
    };
    if statement.args.len() > 1 {
        warn_at(
            warnings,
            &statement.span,
            format!("{keyword} {name}: extra values after the name ignored"),
        );
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::rc::Rc;

    fn statement(keyword: &str, args: &[&str]) -> Statement {
        Statement {
            keyword: keyword.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            span: Span {
                file: Rc::new(PathBuf::from("v.conf")),
                line: 7,
            },
            block: None,
        }
    }

    #[test]
    fn integer_range_and_messages() {
        let mut w = Vec::new();
        assert_eq!(
            integer(&statement("priority", &["255"]), 1, 255, &mut w),
            Ok(255)
        );
        let err = integer(&statement("priority", &["300"]), 1, 255, &mut w).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.conf:7: priority: expected an integer 1..255, found \"300\""
        );
        for bad in ["0", "-1", "+5", "0x10", "1e2", "99999999999999999999", ""] {
            assert!(
                integer(&statement("priority", &[bad]), 1, 255, &mut w).is_err(),
                "{bad}"
            );
        }
        let err = integer(&statement("priority", &[]), 1, 255, &mut w).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.conf:7: priority: missing argument, expected an integer 1..255"
        );
        assert!(w.is_empty());
        assert_eq!(
            integer(&statement("priority", &["9", "x"]), 1, 255, &mut w),
            Ok(9)
        );
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn advert_int_rounds_like_keepalived() {
        let cases = [
            ("1", 100, false),
            ("1.0", 100, false),
            ("3", 300, false),
            ("1.2", 100, true),
            ("1.5", 200, true),
            ("2.49", 200, true),
            ("0.2", 100, true),
            (".5", 100, true),
            ("254.6", 25500, true),
            ("255", 25500, false),
            ("255.0", 25500, false),
        ];
        for (text, cs, warns) in cases {
            let mut w = Vec::new();
            let got = advert_interval_cs(&statement("advert_int", &[text]), &mut w);
            assert_eq!(got, Ok(cs), "{text}");
            assert_eq!(!w.is_empty(), warns, "{text}");
        }
        for bad in [
            "0", "0.0", "0.001", "255.5", "256", "-1", "1,5", "abc", ".", "1.2.3",
        ] {
            let mut w = Vec::new();
            let got = advert_interval_cs(&statement("advert_int", &[bad]), &mut w);
            assert!(got.is_err(), "{bad}");
        }
    }

    #[test]
    fn signed_weights() {
        assert_eq!(signed_in_range("-20", -253, 253), Some(-20));
        assert_eq!(signed_in_range("+5", -253, 253), Some(5));
        assert_eq!(signed_in_range("253", -253, 253), Some(253));
        for bad in [
            "254",
            "-254",
            "",
            "-",
            "+",
            "1.5",
            "0x1",
            "--1",
            "99999999999",
        ] {
            assert_eq!(signed_in_range(bad, -253, 253), None, "{bad}");
        }
    }

    #[test]
    fn script_seconds_are_exact_microseconds() {
        let cases = [
            ("1", 1_000_000),
            ("2", 2_000_000),
            ("0.5", 500_000),
            (".1", 100_000),
            ("1.25", 1_250_000),
            ("0.000001", 1),
            ("007", 7_000_000),
            ("4294", 4_294_000_000),
            ("4294.000", 4_294_000_000),
        ];
        for (text, us) in cases {
            let mut w = Vec::new();
            assert_eq!(
                seconds_us(&statement("interval", &[text]), &mut w),
                Ok(us),
                "{text}"
            );
            assert!(w.is_empty());
        }
        for bad in [
            "0",
            "0.0",
            "0.0000001",
            "4294.5",
            "4295",
            "99999",
            "-1",
            "1,5",
            ".",
            "x",
            "1e3",
        ] {
            let mut w = Vec::new();
            assert!(
                seconds_us(&statement("interval", &[bad]), &mut w).is_err(),
                "{bad}"
            );
        }
        let mut w = Vec::new();
        let err = seconds_us(&statement("timeout", &["0"]), &mut w).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.conf:7: timeout: expected seconds, more than 0 and at most 4294 (e.g. 2 or 0.5), \
             found \"0\""
        );
    }

    #[test]
    fn run_as_user_and_group() {
        let mut w = Vec::new();
        let got = run_as(&statement("user", &["nobody"]), &mut w).unwrap();
        assert_eq!((got.user.as_str(), got.group), ("nobody", None));
        let got = run_as(&statement("user", &["nobody", "nogroup"]), &mut w).unwrap();
        assert_eq!(got.group.as_deref(), Some("nogroup"));
        assert!(w.is_empty());
        run_as(&statement("user", &["a", "b", "c"]), &mut w).unwrap();
        assert_eq!(w[0].message, "user: extra values after 'a b' ignored");
        let err = run_as(&statement("script_user", &[]), &mut w).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.conf:7: script_user: missing argument, expected a user name [and a group name]"
        );
    }

    #[test]
    fn addresses_of_both_families() {
        let s = statement("mcast_src_ip", &[]);
        assert_eq!(
            ip_address(&s, "192.0.2.1"),
            Ok(IpAddr::from([192, 0, 2, 1]))
        );
        assert!(ip_address(&s, "2001:db8::1").unwrap().is_ipv6());
        let err = ip_address(&s, "192.0.2").unwrap_err();
        assert!(err.message.contains("expected an IPv4 or IPv6 address"));
    }

    #[test]
    fn v3_advert_int_is_exact_centiseconds() {
        for (text, cs, warns) in [
            ("1", 100, false),
            ("0.1", 10, false),
            ("0.01", 1, false),
            (".5", 50, false),
            ("40.95", 4095, false),
            ("41", 4095, true),
            ("255", 4095, true),
            // keepalived 2.2.7 rounds half up on the wire: 0.015 -> 2 cs,
            // 1.005 -> 101 cs, 0.0999 -> 10 cs ("must be in units of 10ms -
            // rounding").
            ("0.015", 2, true),
            ("0.014", 1, true),
            ("0.0149", 1, true),
            ("1.005", 101, true),
            ("0.095", 10, true),
            ("0.0999", 10, true),
            ("40.954", 4095, true),
            ("40.955", 4095, true),
        ] {
            let mut w = Vec::new();
            let got = advert_interval_v3_cs(&statement("advert_int", &[text]), &mut w);
            assert_eq!(got, Ok(cs), "{text}");
            assert_eq!(!w.is_empty(), warns, "{text}: {w:?}");
        }
        // Below 0.01 s keepalived refuses the value before any rounding.
        for bad in [
            "0", "0.001", "0.005", "0.0099", "256", "-1", "abc", ".", "1.2.3",
        ] {
            let got = advert_interval_v3_cs(&statement("advert_int", &[bad]), &mut Vec::new());
            assert!(got.is_err(), "{bad}");
        }
    }
}
