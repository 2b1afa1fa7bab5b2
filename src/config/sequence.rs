//! `~SEQ(VAR, START, STEP, END) rest`: the rest of the line once for each
//! value of VAR, from START by STEP while not past END. STEP may be left
//! out (1 or -1, towards END), and START too (1, or -1 when END is
//! negative). `~SEQx` gives VAR in hexadecimal, for IPv6 addresses.

/// One `~SEQ(...)` at the start of a line: the variable, its values (as
/// text, ready to substitute) and the rest of the line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sequence<'a> {
    pub variable: String,
    pub values: Vec<String>,
    pub rest: &'a str,
}

/// A line producing more than this is almost surely a typo in END or STEP.
const MAX_VALUES: i64 = 65_536;

/// None when the line does not start with `~SEQ`; an error when it does
/// but cannot be read.
pub(crate) fn sequence(line: &str) -> Option<Result<Sequence<'_>, String>> {
    let after = line.trim_start().strip_prefix("~SEQ")?;
    let (hex, after) = match after.strip_prefix('x') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    let Some(after) = after.strip_prefix('(') else {
        return Some(Err("~SEQ: expected '(' after ~SEQ".to_string()));
    };
    let Some((inside, rest)) = after.split_once(')') else {
        return Some(Err("~SEQ: expected ')' to close the arguments".to_string()));
    };
    Some(read_sequence(inside, hex, rest))
}

fn read_sequence<'a>(inside: &str, hex: bool, rest: &'a str) -> Result<Sequence<'a>, String> {
    let args: Vec<&str> = inside.split(',').map(str::trim).collect();
    let variable = args[0];
    if variable.is_empty()
        || !variable
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!("~SEQ: '{variable}' is not a variable name"));
    }
    let numbers = args[1..]
        .iter()
        .map(|text| number(text).ok_or_else(|| format!("~SEQ: '{text}' is not an integer")))
        .collect::<Result<Vec<i64>, String>>()?;
    let towards = |from: i64, to: i64| if to >= from { 1 } else { -1 };
    let (start, step, end) = match numbers[..] {
        [end] => {
            let start = if end < 0 { -1 } else { 1 };
            (start, towards(start, end), end)
        }
        [start, end] => (start, towards(start, end), end),
        [start, step, end] => (start, step, end),
        _ => {
            return Err(
                "~SEQ: expected (VAR, END), (VAR, START, END) or (VAR, START, STEP, END)"
                    .to_string(),
            )
        }
    };
    if step == 0 {
        return Err("~SEQ: STEP 0 never reaches END".to_string());
    }
    let past_end = if step > 0 { start > end } else { start < end };
    let span = end
        .checked_sub(start)
        .ok_or_else(|| "~SEQ: START and END too far apart".to_string())?;
    let count = if past_end { 0 } else { span / step + 1 };
    if count > MAX_VALUES {
        return Err(format!("~SEQ: {count} values, more than {MAX_VALUES}"));
    }
    let values = (0..count)
        .map(|i| start + i * step)
        .map(|v| match (hex, v < 0) {
            (true, false) => format!("{v:x}"),
            (true, true) => format!("-{:x}", v.unsigned_abs()),
            (false, _) => v.to_string(),
        })
        .collect();
    Ok(Sequence {
        variable: variable.to_string(),
        values,
        rest,
    })
}

/// Decimal, or hexadecimal with `0x`; either may be negative.
fn number(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        None => return None,
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<String> {
        sequence(line).unwrap().unwrap().values
    }

    #[test]
    fn start_and_step_default_towards_the_end() {
        // What keepalived 2.2.7 made of each, read from its config dump.
        assert_eq!(values("~SEQ(X, 10, 2, 15) a"), ["10", "12", "14"]);
        assert_eq!(values("~SEQ(Y, 3) a"), ["1", "2", "3"]);
        assert_eq!(values("~SEQ(Z, 5, 3) a"), ["5", "4", "3"]);
        assert_eq!(values("~SEQx(H, 0x9, 0xb) a"), ["9", "a", "b"]);
        assert_eq!(values("~SEQx(H, 144, 16, 192) a"), ["90", "a0", "b0", "c0"]);
        assert_eq!(values("~SEQ(N, -2) a"), ["-1", "-2"]);
        assert_eq!(values("~SEQ(N, 1, 2, 0) a"), Vec::<String>::new());
    }

    #[test]
    fn the_rest_follows_the_parenthesis_and_errors_say_why() {
        let seq = sequence("  ~SEQ(IF,0,7) ~SEQ(ID,1,2) x").unwrap().unwrap();
        assert_eq!((seq.variable.as_str(), seq.rest), ("IF", " ~SEQ(ID,1,2) x"));
        assert_eq!(sequence("priority 1"), None);
        assert!(sequence("~SEQ(X, 1, 0, 5) a")
            .unwrap()
            .unwrap_err()
            .contains("STEP 0"));
        assert!(sequence("~SEQ(X, a, 5) a")
            .unwrap()
            .unwrap_err()
            .contains("'a'"));
        assert!(sequence("~SEQ(X, 1, 5 a").unwrap().is_err());
        assert!(sequence("~SEQ(, 5) a").unwrap().is_err());
        assert!(sequence("~SEQ(X, 1, 1, 100000) a").unwrap().is_err());
        let extremes = "~SEQ(X, -0x7fffffffffffffff, 0x7fffffffffffffff) a";
        assert!(sequence(extremes).unwrap().is_err());
        assert!(
            sequence("~SEQ(X, 0x7fffffffffffffff, -1, 0x7ffffffffffffffe) a")
                .unwrap()
                .is_ok()
        );
    }
}
