//! The names `ip` and keepalived accept for numeric rtnetlink values
//! (scopes, route protocols, route tables), with numbers accepted too.

/// `scope S`: host, link, site, global (or universe), nowhere, or 0..255.
/// The numbers are the kernel's RT_SCOPE_* values.
pub(crate) fn scope(text: &str) -> Option<u8> {
    match text {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => number(text),
    }
}

fn number(text: &str) -> Option<u8> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(scope("link"), Some(253));
        assert_eq!(scope("250"), Some(250));
        assert_eq!(scope("256"), None);
        assert_eq!(scope("-1"), None);
    }
}
