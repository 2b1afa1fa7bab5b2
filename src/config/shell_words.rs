//! Shows an argv the way a shell would read it back into the same argv,
//! so that `keepvip -t` prints `/bin/bash -c 'test -f /x'` and not the
//! ambiguous `/bin/bash -c test -f /x`.

/// The words joined by blanks, each quoted only where it has to be.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|word| quoted(word))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%^".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    // Single quotes keep everything literal; a single quote itself has to
    // close the quoting, be escaped, and reopen it.
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(argv: &[&str]) -> String {
        shell_words(&argv.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn only_words_that_need_it_are_quoted() {
        assert_eq!(words(&["/bin/true"]), "/bin/true");
        assert_eq!(
            words(&["/bin/bash", "-c", "test -f /x && exit 1"]),
            "/bin/bash -c 'test -f /x && exit 1'"
        );
        assert_eq!(words(&["/bin/echo", "it's", ""]), r"/bin/echo 'it'\''s' ''");
        assert_eq!(
            words(&["/bin/echo", "$HOME", "a*"]),
            "/bin/echo '$HOME' 'a*'"
        );
        assert_eq!(words(&["/bin/echo", "ünï"]), "/bin/echo 'ünï'");
    }
}
