//! Command lines for `script` and `notify*`: keepalived runs them without a
//! shell, so the text is split into argv here, once, where a mistake can
//! still be reported with its file and line.

use super::model::{Command, ConfigError, Warning};
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
/// keepalived also takes `'/bin/x a b'`; such a value arrives in pieces,
/// so while the quotes do not balance, the next values are joined back on
/// (with one blank each, which is all a blank inside quotes can have been
/// but for runs of blanks).
pub(crate) fn command_and_rest(line: &Statement) -> Result<(Command, &[String]), ConfigError> {
    if line.block.is_some() {
        return Err(error_at(
            &line.span,
            format!("{}: does not take a '{{' block", line.keyword),
        ));
    }
    if line.args.is_empty() {
        return Err(error_at(
            &line.span,
            format!(
                "{}: missing argument, expected a command (quote it to pass arguments)",
                line.keyword
            ),
        ));
    }
    let mut joined = String::new();
    let mut last_error = SplitError::Unterminated('"');
    for (count, value) in line.args.iter().enumerate() {
        if count > 0 {
            joined.push(' ');
        }
        joined.push_str(value);
        match split_command(&joined) {
            Ok(argv) if argv.is_empty() || argv.iter().all(String::is_empty) => {
                return Err(error_at(
                    &line.span,
                    format!("{}: empty command", line.keyword),
                ));
            }
            Ok(argv) => {
                let command = Command {
                    argv,
                    span: line.span.clone(),
                };
                return Ok((command, &line.args[count + 1..]));
            }
            Err(err) => last_error = err,
        }
    }
    let SplitError::Unterminated(quote) = last_error;
    Err(error_at(
        &line.span,
        format!(
            "{}: unterminated {quote} in command \"{}\"",
            line.keyword, line.args[0]
        ),
    ))
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

/// `notify_* CMD [USER [GROUP]]`. keepvip has nowhere to keep a per-command
/// user yet, so one is reported and the command runs as the global
/// script_user (or root), like every script without its own user.
pub(crate) fn notify_command(
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Command, ConfigError> {
    let (command, rest) = command_and_rest(line)?;
    match rest {
        [] => {}
        [_] | [_, _] => {
            let who = rest.join(" ");
            warn_at(
                warnings,
                &line.span,
                format!(
                    "{}: running the command as '{who}' is not supported by keepvip yet, it \
                     runs as the global script_user (root if none); quote the command if \
                     '{who}' was meant as arguments",
                    line.keyword
                ),
            );
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
