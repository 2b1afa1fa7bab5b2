//! `include PATTERN`: replaces the line with the tokens of every file the
//! glob pattern matches, in sorted order, recursively.
//!
//! Expansion works on the token stream, before statements are read, so an
//! `include` may stand wherever a statement may (top level or inside a
//! block), as in keepalived.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::glob;
use super::lexer::{tokenize, Token};
use super::model::{ConfigError, Span, Warning};
use super::source::{directory_of, read_text};

/// Nesting limit for includes; deeper is almost surely a mistake.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 8;

/// Tokens of `text` (the content of `file`) with every include expanded.
pub(crate) fn tokens_with_includes(
    text: &str,
    file: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Token>, ConfigError> {
    let mut reading = vec![identity_of(file)];
    expand_file(text, file, &mut reading, warnings)
}

/// `reading` is the chain of files currently open, top file first; its
/// length is the nesting depth and it is how a cycle is recognised.
fn expand_file(
    text: &str,
    file: &Path,
    reading: &mut Vec<PathBuf>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Token>, ConfigError> {
    let file_rc = Rc::new(file.to_path_buf());
    let tokens = tokenize(text, &file_rc)?;
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let starts_line = i == 0 || !tokens[i - 1].same_line(&tokens[i]);
        if !(starts_line && tokens[i].bare_word() == Some("include")) {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        }
        let span = tokens[i].span.clone();
        i += 1;
        let mut args = Vec::new();
        while i < tokens.len() && tokens[i].same_line(&tokens[i - 1]) {
            match &tokens[i].kind {
                super::lexer::TokenKind::Word { text, .. } => args.push(text.clone()),
                // A brace after the pattern belongs to the surrounding text.
                _ => break,
            }
            i += 1;
        }
        let Some(pattern) = args.first() else {
            return Err(ConfigError {
                span: Some(span),
                message: "include: missing argument, expected a file name or glob pattern"
                    .to_string(),
            });
        };
        if args.len() > 1 {
            warnings.push(Warning {
                span: span.clone(),
                message: format!("include: extra arguments after '{pattern}' ignored"),
            });
        }
        let full_pattern = directory_of(file).join(pattern);
        include_pattern(&full_pattern, &span, reading, warnings, &mut out)?;
    }
    Ok(out)
}

fn include_pattern(
    pattern: &Path,
    span: &Span,
    reading: &mut Vec<PathBuf>,
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
        });
    }
    for path in paths {
        if path.is_dir() {
            warnings.push(Warning {
                span: span.clone(),
                message: format!("include: {} is a directory, skipped", path.display()),
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
        let included = expand_file(&text, &path, reading, warnings);
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
