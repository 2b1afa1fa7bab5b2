//! Conditional lines: `@ID rest` keeps `rest` only when keepvip runs with
//! config id ID (`-i ID`), `@^ID rest` only when it does not. One file can
//! so serve several routers, each reading its own `router_id`, priority or
//! unicast addresses.

/// keepalived's default config id: the host name up to its first dot.
pub fn default_config_id() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]);
    name.split('.').next().unwrap_or_default().to_string()
}

/// The line without its condition when the condition holds (a line
/// without one always does), None when the line is for another router.
pub(crate) fn kept_by_condition<'a>(line: &'a str, config_id: &str) -> Option<&'a str> {
    let Some(condition) = line.trim_start().strip_prefix('@') else {
        return Some(line);
    };
    let (negated, condition) = match condition.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, condition),
    };
    let id_end = condition
        .find(char::is_whitespace)
        .unwrap_or(condition.len());
    let (id, rest) = condition.split_at(id_end);
    ((id == config_id) != negated).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_keeps_its_line_for_the_named_router_only() {
        assert_eq!(
            kept_by_condition("  priority 1", "lb1"),
            Some("  priority 1")
        );
        assert_eq!(
            kept_by_condition("@lb1 priority 1", "lb1"),
            Some(" priority 1")
        );
        assert_eq!(kept_by_condition("\t@lb1\tpriority 1", "lb2"), None);
        assert_eq!(kept_by_condition("@^lb1 priority 1", "lb1"), None);
        assert_eq!(
            kept_by_condition("@^lb1 priority 1", "lb2"),
            Some(" priority 1")
        );
        // The id is the whole word: no prefix match.
        assert_eq!(kept_by_condition("@lb priority 1", "lb1"), None);
        assert_eq!(kept_by_condition("@lb1", "lb1"), Some(""));
    }

    #[test]
    fn the_default_id_is_the_first_label_of_the_host_name() {
        let id = default_config_id();
        assert!(!id.contains('.'), "{id}");
    }
}
