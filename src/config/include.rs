//! `include PATTERN`: replaces the line with the tokens of every file the
//! glob pattern matches, in sorted order, recursively.
//!
//! Expansion works on the token stream, before statements are read, so an
//! `include` may stand wherever a statement may (top level or inside a
//! block), as in keepalived. Each line goes through `expansion` (the
//! config language: conditions, definitions, `~SEQ`) first, with one
//! `Expander` for the whole config, so a definition made before an
//! `include` holds in the included file and one made there holds after.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::expansion::Expander;
use super::glob;
use super::lexer::{tokenize_line, Token};
use super::model::{ConfigError, Span, Warning, WarningKind};
use super::source::{directory_of, read_text};

/// Nesting limit for includes; deeper is almost surely a mistake.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 8;

/// Tokens of `text` (the content of `file`) with every include expanded.
pub(crate) fn tokens_with_includes(
    text: &str,
    file: &Path,
    config_id: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Token>, ConfigError> {
    let mut reading = vec![identity_of(file)];
    let mut expander = Expander::new(config_id);
    expand_file(text, file, &mut reading, &mut expander, warnings)
}

/// `reading` is the chain of files currently open, top file first; its
/// length is the nesting depth and it is how a cycle is recognised.
fn expand_file(
    text: &str,
    file: &Path,
    reading: &mut Vec<PathBuf>,
    expander: &mut Expander,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Token>, ConfigError> {
    let file_rc = Rc::new(file.to_path_buf());
    let mut out = Vec::new();
    let mut lines = Vec::new();
    let mut line_number = 0;
    // `${_PWD}`, absolute as in keepalived (which changes directory).
    let directory = directory_of(file);
    let pwd = std::fs::canonicalize(&directory).unwrap_or(directory);
    expander.enter_directory(&pwd);
    for (index, physical) in text.split('\n').enumerate() {
        let span = Span {
            file: Rc::clone(&file_rc),
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
        };
        lines.clear();
        expander.feed(physical, &span, &mut lines)?;
        for line in &lines {
            line_number += 1;
            let mut tokens = Vec::new();
            tokenize_line(&line.text, &line.span, line_number, &mut tokens)?;
            if tokens.first().and_then(Token::bare_word) == Some("include") {
                include_line(&tokens, file, reading, expander, warnings, &mut out)?;
                // The included files set `${_PWD}` to theirs.
                expander.enter_directory(&pwd);
            } else {
                out.extend(tokens);
            }
        }
    }
    expander.end_of_file();
    Ok(out)
}

/// `include PATTERN` and what may follow it on its line.
fn include_line(
    tokens: &[Token],
    file: &Path,
    reading: &mut Vec<PathBuf>,
    expander: &mut Expander,
    warnings: &mut Vec<Warning>,
    out: &mut Vec<Token>,
) -> Result<(), ConfigError> {
    let span = tokens[0].span.clone();
    let mut args = Vec::new();
    let mut rest = tokens.len();
    for (at, token) in tokens.iter().enumerate().skip(1) {
        match &token.kind {
            super::lexer::TokenKind::Word { text, .. } => args.push(text.clone()),
            // A brace after the pattern belongs to the surrounding text.
            _ => {
                rest = at;
                break;
            }
        }
    }
    let Some(pattern) = args.first() else {
        return Err(ConfigError {
            span: Some(span),
            message: "include: missing argument, expected a file name or glob pattern".to_string(),
        });
    };
    if args.len() > 1 {
        warnings.push(Warning {
            span: span.clone(),
            message: format!("include: extra arguments after '{pattern}' ignored"),
            kind: WarningKind::Accepted,
        });
    }
    let full_pattern = directory_of(file).join(pattern);
    include_pattern(&full_pattern, &span, reading, expander, warnings, out)?;
    out.extend_from_slice(&tokens[rest..]);
    Ok(())
}

fn include_pattern(
    pattern: &Path,
    span: &Span,
    reading: &mut Vec<PathBuf>,
    expander: &mut Expander,
    warnings: &mut Vec<Warning>,
    out: &mut Vec<Token>,
) -> Result<(), ConfigError> {
    let paths = glob::expand(pattern).map_err(|why| ConfigError {
        span: Some(span.clone()),
        message: format!("include {}: {}", pattern.display(), why),
    })?;
    if paths.is_empty() {
        warnings.push(Warning {
            span: span.clone(),
            message: format!(
                "include {}: no file matches, nothing included",
                pattern.display()
            ),
            kind: WarningKind::Accepted,
        });
    }
    for path in paths {
        if path.is_dir() {
            warnings.push(Warning {
                span: span.clone(),
                message: format!("include: {} is a directory, skipped", path.display()),
                kind: WarningKind::Accepted,
            });
            continue;
        }
        let identity = identity_of(&path);
        if reading.contains(&identity) {
            return Err(ConfigError {
                span: Some(span.clone()),
                message: format!(
                    "include cycle: {} is already being read (it includes itself)",
                    path.display()
                ),
            });
        }
        if reading.len() > MAX_INCLUDE_DEPTH {
            return Err(ConfigError {
                span: Some(span.clone()),
                message: format!(
                    "include {}: includes nested more than {} deep",
                    path.display(),
                    MAX_INCLUDE_DEPTH
                ),
            });
        }
        let text = read_text(&path, Some(span))?;
        reading.push(identity);
        let included = expand_file(&text, &path, reading, expander, warnings);
        reading.pop();
        out.extend(included?);
    }
    Ok(())
}

/// The same file reached by two spellings (`./a.conf`, `a.conf`, a symlink)
/// must count as one for cycle detection.
fn identity_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
