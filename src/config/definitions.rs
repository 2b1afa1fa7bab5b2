//! `$NAME=value` definitions and their use as `$NAME` or `${NAME}`.
//!
//! A value is kept as written and substituted when used, so it may name
//! definitions made later (`$P=$Q` then `$Q=44`: `$P` is 44), and a
//! multi-line definition (`$NAME= \` and lines ending in `\`) is a
//! template whose lines are read afresh at each use, with the values in
//! force then. As in keepalived 2.2.7: `$NAME` without braces takes the
//! whole word up to a blank (`$A.10` names `A.10`, so `${A}.10` is the way
//! to glue), and a name not defined stays as written.

use std::collections::HashMap;

/// Substitution within substitution deeper than this is a loop
/// (`$A=$B`, `$B=$A`).
const MAX_DEPTH: usize = 32;

#[derive(Debug, Default)]
pub(crate) struct Definitions {
    /// A multi-line value has its lines joined by '\n'.
    values: HashMap<String, String>,
}

/// A `$NAME=value` line: the name, and the value (blanks and a trailing
/// comment trimmed). `$NAME = value`, with a blank before '=', is not a
/// definition in keepalived either.
pub(crate) fn definition(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('$')?;
    let (name, value) = rest.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    Some((name, without_comment(value).trim()))
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `value # note` is `value`; a `#` or `!` inside double quotes is kept.
fn without_comment(value: &str) -> &str {
    let mut quoted = false;
    for (at, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '!' | '#' if !quoted => return &value[..at],
            _ => {}
        }
    }
    value
}

impl Definitions {
    pub fn define(&mut self, name: &str, value: String) {
        self.values.insert(name.to_string(), value);
    }

    /// `line` with every defined `$NAME` / `${NAME}` replaced, the values'
    /// own uses included.
    pub fn substitute(&self, line: &str) -> Result<String, String> {
        self.substitute_at(line, 0)
    }

    fn substitute_at(&self, line: &str, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "definitions used within each other more than {MAX_DEPTH} deep (a loop?)"
            ));
        }
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, used) = match after.strip_prefix('{') {
                Some(braced) => match braced.find('}') {
                    Some(end) => (&braced[..end], end + 2),
                    None => ("", 0),
                },
                None => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], end)
                }
            };
            match self.values.get(name) {
                Some(value) if used > 0 => {
                    out.push_str(&self.substitute_at(value, depth + 1)?);
                    rest = &after[used..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The lines of the multi-line definition that `line` uses alone
    /// (`$NAME` or `${NAME}` and nothing else), to be read one by one.
    pub fn template(&self, line: &str) -> Option<Vec<String>> {
        let used = line.trim().strip_prefix('$')?;
        let name = used
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .unwrap_or(used);
        let value = self.values.get(name)?;
        value
            .contains('\n')
            .then(|| value.split('\n').map(str::to_string).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defined(pairs: &[(&str, &str)]) -> Definitions {
        let mut d = Definitions::default();
        for (name, value) in pairs {
            d.define(name, value.to_string());
        }
        d
    }

    #[test]
    fn definition_lines() {
        assert_eq!(definition("$IF=eth0"), Some(("IF", "eth0")));
        assert_eq!(definition("  $SP=  77  "), Some(("SP", "77")));
        assert_eq!(definition("$A=x # note"), Some(("A", "x")));
        assert_eq!(definition("$A=\"a # b\""), Some(("A", "\"a # b\"")));
        assert_eq!(definition("$EMPTY="), Some(("EMPTY", "")));
        assert_eq!(definition("$PRI = 120"), None);
        assert_eq!(definition("priority $PRI"), None);
    }

    #[test]
    fn substitution_as_keepalived_reads_it() {
        let d = defined(&[("IF", "eth0"), ("P", "$Q"), ("Q", "44"), ("A", "a b")]);
        let s = |line: &str| d.substitute(line).unwrap();
        assert_eq!(s("interface $IF"), "interface eth0");
        assert_eq!(s("label ${IF}:1"), "label eth0:1");
        assert_eq!(s("priority $P"), "priority 44");
        assert_eq!(s("x $A $A"), "x a b a b");
        // An unbraced name runs to the next blank: these are not defined.
        assert_eq!(s("x $IF. [$IF] $IFx \"$IF\""), "x $IF. [$IF] $IFx \"$IF\"");
        assert_eq!(s("x $UNDEF ${UNDEF} ${IF"), "x $UNDEF ${UNDEF} ${IF");
        assert_eq!(
            s("kill -0 $(cat /run/x.pid) $"),
            "kill -0 $(cat /run/x.pid) $"
        );
        let looped = defined(&[("A", "$B"), ("B", "$A")]);
        assert!(looped.substitute("$A").unwrap_err().contains("loop"));
    }

    #[test]
    fn a_multi_line_definition_used_alone_is_a_template() {
        let d = defined(&[("T", "a ${N}\nb"), ("ONE", "x")]);
        assert_eq!(
            d.template(" $T "),
            Some(vec!["a ${N}".to_string(), "b".to_string()])
        );
        assert_eq!(
            d.template("${T}"),
            Some(vec!["a ${N}".to_string(), "b".to_string()])
        );
        assert_eq!(d.template("$ONE"), None);
        assert_eq!(d.template("x $T"), None);
    }
}
