//! Command lines for `script` and `notify*`: keepalived runs them without a
//! shell, so the text is split into argv here, once, where a mistake can
//! still be reported with its file and line.

use super::model::{Command, ConfigError, RunAs, Warning};
use super::syntax::Statement;
use super::values::{error_at, warn_at};

/// Why a command line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A `'` or `"` with no closing partner.
    Unterminated(char),
}

/// Splits a command line as keepalived does (observed with keepalived 2.2.7
/// `-d`): blanks separate words; `'...'` and `"..."` group blanks into a
/// word and are removed; quotes may touch other text (`a'b c'd` is the one
/// word `ab cd`); `''` is an empty argument. No shell runs, so nothing else
/// is special: `$`, `|` and `;` reach the program as they are.
///
/// keepalived also drops every backslash (`a\ b` gives `a` `b`); keepvip
/// keeps backslashes as ordinary characters rather than copy that.
pub(crate) fn split_command(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once any character or quote has been seen, so `''`
    // still yields an (empty) argument.
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(other) => word.push(other),
                        None => return Err(SplitError::Unterminated(c)),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The command at the start of `line`'s values, and the values after it.
///
/// Normally the command is the first value: the text of `"..."` when
/// quoted, else a single bare word (keepalived ignores further bare words
/// of `script /bin/x a b`). The lexer only knows double quotes, but
/// keepalived also takes `'/bin/x a b'` as one value and splits its inside
/// again; such a value arrives here in pieces, so the pieces up to the one
/// ending in `'` are joined back (with one blank each, which is what a run
/// of blanks in there turns into) and the quotes taken off.
pub(crate) fn command_and_rest(line: &Statement) -> Result<(Command, &[String]), ConfigError> {
    if line.block.is_some() {
        return Err(error_at(
            &line.span,
            format!("{}: does not take a '{{' block", line.keyword),
        ));
    }
    let Some(first) = line.args.first() else {
        return Err(error_at(
            &line.span,
            format!(
                "{}: missing argument, expected a command (quote it to pass arguments)",
                line.keyword
            ),
        ));
    };
    let (text, used) = if first.starts_with('\'') && split_command(first).is_err() {
        single_quoted_value(&line.args).ok_or_else(|| unterminated(line, '\''))?
    } else {
        (first.clone(), 1)
    };
    let argv = split_command(&text).map_err(|SplitError::Unterminated(q)| unterminated(line, q))?;
    if argv.iter().all(String::is_empty) {
        return Err(error_at(
            &line.span,
            format!("{}: empty command", line.keyword),
        ));
    }
    let command = Command {
        argv,
        run_as: None,
        span: line.span.clone(),
    };
    Ok((command, &line.args[used..]))
}

/// The inside of a `'...'` value that the lexer cut at blanks, and how many
/// values it took; None when no value closes the quote.
fn single_quoted_value(args: &[String]) -> Option<(String, usize)> {
    let mut joined = String::new();
    for (i, value) in args.iter().enumerate() {
        if i > 0 {
            joined.push(' ');
        }
        joined.push_str(value);
        if joined.len() >= 2 && joined.ends_with('\'') {
            return Some((joined[1..joined.len() - 1].to_string(), i + 1));
        }
    }
    None
}

fn unterminated(line: &Statement, quote: char) -> ConfigError {
    error_at(
        &line.span,
        format!(
            "{}: unterminated {quote} in command \"{}\"",
            line.keyword, line.args[0]
        ),
    )
}

/// `script CMD`: values after the command are ignored with a warning, as
/// keepalived ignores them (silently).
pub(crate) fn script_command(
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Command, ConfigError> {
    let (command, rest) = command_and_rest(line)?;
    if !rest.is_empty() {
        warn_at(
            warnings,
            &line.span,
            extra_words_message(&line.keyword, &command, rest),
        );
    }
    Ok(command)
}

/// `notify_* CMD [USER [GROUP]]`, as keepalived reads it: one or two words
/// after the command name who runs it.
pub(crate) fn notify_command(
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Command, ConfigError> {
    let (mut command, rest) = command_and_rest(line)?;
    match rest {
        [] => {}
        [user] | [user, _] => {
            command.run_as = Some(RunAs {
                user: user.clone(),
                group: rest.get(1).cloned(),
            });
        }
        _ => warn_at(
            warnings,
            &line.span,
            extra_words_message(&line.keyword, &command, rest),
        ),
    }
    Ok(command)
}

fn extra_words_message(keyword: &str, command: &Command, rest: &[String]) -> String {
    format!(
        "{keyword}: extra values '{}' after the command '{}' ignored (as keepalived does); \
         quote the whole command to pass arguments",
        rest.join(" "),
        command.argv.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::tokenize;
    use crate::config::syntax::statements;
    use std::path::PathBuf;
    use std::rc::Rc;

    fn split(text: &str) -> Vec<String> {
        split_command(text).expect("splits")
    }

    /// One statement of real config text, so the lexer's view of quotes is
    /// part of what is tested.
    fn line(text: &str) -> Statement {
        let file = Rc::new(PathBuf::from("c.conf"));
        statements(&tokenize(text, &file).unwrap())
            .unwrap()
            .remove(0)
    }

    #[test]
    fn blanks_separate_and_quotes_group() {
        assert_eq!(split("/bin/check"), ["/bin/check"]);
        assert_eq!(split("  /bin/echo   a\tb  "), ["/bin/echo", "a", "b"]);
        assert_eq!(
            split("/bin/sh -c 'test -f /tmp/x'"),
            ["/bin/sh", "-c", "test -f /tmp/x"]
        );
        assert_eq!(
            split(r#"/bin/echo "p q" 'r s'"#),
            ["/bin/echo", "p q", "r s"]
        );
        // A quote of the other kind is an ordinary character inside quotes.
        assert_eq!(
            split(r#"/bin/sh -c "echo 'hi there'""#),
            ["/bin/sh", "-c", "echo 'hi there'"]
        );
        // Quotes touching text join it into one word, as in keepalived.
        assert_eq!(split("/bin/echo a'b c'd"), ["/bin/echo", "ab cd"]);
        assert_eq!(split("/bin/echo '' x"), ["/bin/echo", "", "x"]);
        // No shell: these reach the program untouched.
        assert_eq!(
            split("/bin/x $HOME a|b c;d \\n"),
            ["/bin/x", "$HOME", "a|b", "c;d", "\\n"]
        );
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("   "), Vec::<String>::new());
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(
            split_command("/bin/echo 'a b"),
            Err(SplitError::Unterminated('\''))
        );
        assert_eq!(
            split_command("/bin/echo \"a"),
            Err(SplitError::Unterminated('"'))
        );
    }

    #[test]
    fn quoted_command_is_split_again_and_the_rest_returned() {
        let l = line(r#"notify_master "/bin/sh -c 'test -f /tmp/x'" nobody nogroup"#);
        let (command, rest) = command_and_rest(&l).unwrap();
        assert_eq!(command.argv, ["/bin/sh", "-c", "test -f /tmp/x"]);
        assert_eq!(command.span.line, 1);
        assert_eq!(rest, ["nobody", "nogroup"]);
        // The lexer keeps comment and brace characters inside "...".
        let l = line(r#"script "/bin/echo # not { a comment""#);
        let (command, rest) = command_and_rest(&l).unwrap();
        assert_eq!(command.argv, ["/bin/echo", "#", "not", "{", "a", "comment"]);
        assert!(rest.is_empty());
    }

    #[test]
    fn unquoted_command_is_one_word_and_single_quotes_rejoin() {
        let l = line("script /bin/echo a b");
        let (command, rest) = command_and_rest(&l).unwrap();
        assert_eq!(command.argv, ["/bin/echo"]);
        assert_eq!(rest, ["a", "b"]);
        // The lexer only knows double quotes; keepalived also takes '...'.
        let l = line("script '/bin/echo a b' x");
        let (command, rest) = command_and_rest(&l).unwrap();
        assert_eq!(command.argv, ["/bin/echo", "a", "b"]);
        assert_eq!(rest, ["x"]);
        // A bare word whose quotes balance is split like any other.
        let l = line("script 'a'b x");
        let (command, rest) = command_and_rest(&l).unwrap();
        assert_eq!(command.argv, ["ab"]);
        assert_eq!(rest, ["x"]);
    }

    #[test]
    fn empty_missing_and_unbalanced_commands_are_errors() {
        let message = |text: &str| command_and_rest(&line(text)).unwrap_err().to_string();
        assert_eq!(message(r#"script """#), "c.conf:1: script: empty command");
        assert_eq!(
            message(r#"script "   ""#),
            "c.conf:1: script: empty command"
        );
        assert_eq!(message(r#"notify "''""#), "c.conf:1: notify: empty command");
        assert_eq!(
            message("script"),
            "c.conf:1: script: missing argument, expected a command (quote it to pass arguments)"
        );
        assert_eq!(
            message(r#"script "/bin/echo 'a b""#),
            "c.conf:1: script: unterminated ' in command \"/bin/echo 'a b\""
        );
        assert_eq!(
            message("script '/bin/echo a"),
            "c.conf:1: script: unterminated ' in command \"'/bin/echo\""
        );
        assert_eq!(message("script ''"), "c.conf:1: script: empty command");
        assert_eq!(
            message("script /bin/x {\n}"),
            "c.conf:1: script: does not take a '{' block"
        );
    }

    #[test]
    fn script_and_notify_extras_warn_differently() {
        let mut w = Vec::new();
        let command = script_command(&line("script /bin/echo a b"), &mut w).unwrap();
        assert_eq!(command.argv, ["/bin/echo"]);
        assert_eq!(w.len(), 1);
        assert!(w[0]
            .message
            .contains("extra values 'a b' after the command '/bin/echo'"));
        assert!(w[0].message.contains("quote the whole command"));

        let mut w = Vec::new();
        let command = notify_command(&line("notify_master /bin/x nobody nogroup"), &mut w).unwrap();
        assert_eq!(command.argv, ["/bin/x"]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            command.run_as,
            Some(RunAs {
                user: "nobody".to_string(),
                group: Some("nogroup".to_string())
            })
        );

        let mut w = Vec::new();
        notify_command(&line("notify /bin/x a b c"), &mut w).unwrap();
        assert!(w[0].message.contains("extra values 'a b c'"));

        let mut w = Vec::new();
        notify_command(&line(r#"notify "/bin/x a b c""#), &mut w).unwrap();
        assert!(w.is_empty());
    }
}
