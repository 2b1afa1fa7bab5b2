//! Splits keepalived.conf text into tokens.
//!
//! keepalived.conf is line based: a statement is a keyword and its values on
//! one line. So every token keeps its line, and the statement reader
//! (`syntax.rs`) uses the line to know where a statement ends.

#[cfg(test)]
use std::path::PathBuf;
use std::rc::Rc;

use super::model::{ConfigError, Span};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A keyword or a value. `quoted` is true for `"..."`, which is never a
    /// brace, a comment or the `include` keyword, whatever it holds.
    Word {
        text: String,
        quoted: bool,
    },
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// Which line of its file the token is on, counting the lines that
    /// definitions and `~SEQ` make (which share their span's line).
    pub line: u32,
}

impl Token {
    /// The text of an unquoted word, for keyword comparisons.
    pub fn bare_word(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Word {
                text,
                quoted: false,
            } => Some(text),
            _ => None,
        }
    }

    /// True when both tokens come from the same line of the same file.
    pub fn same_line(&self, other: &Token) -> bool {
        self.line == other.line && Rc::ptr_eq(&self.span.file, &other.span.file)
    }
}

/// Tokens of one whole file. Comments (`!` or `#` outside quotes, anywhere
/// on a line) are dropped; `{` and `}` are tokens even when glued to a word.
#[cfg(test)]
pub(crate) fn tokenize(text: &str, file: &Rc<PathBuf>) -> Result<Vec<Token>, ConfigError> {
    let mut tokens = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let span = Span {
            file: Rc::clone(file),
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
        };
        tokenize_line(line, &span, span.line, &mut tokens)?;
    }
    Ok(tokens)
}

/// Tokens of one line; `line` numbers it within its file (see `Token`).
pub(crate) fn tokenize_line(
    text: &str,
    span: &Span,
    line: u32,
    out: &mut Vec<Token>,
) -> Result<(), ConfigError> {
    let mut word = String::new();
    let mut chars = text.chars();
    let push_word = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token {
                kind: TokenKind::Word {
                    text: std::mem::take(word),
                    quoted: false,
                },
                span: span.clone(),
                line,
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '!' | '#' => break,
            '{' | '}' => {
                push_word(&mut word, out);
                let kind = if c == '{' {
                    TokenKind::Open
                } else {
                    TokenKind::Close
                };
                out.push(Token {
                    kind,
                    span: span.clone(),
                    line,
                });
            }
            // A quote opens a string only at the start of a token; inside a
            // word it is an ordinary character (as in `a"b`).
            '"' if word.is_empty() => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => text.push(c),
                        None => {
                            return Err(ConfigError {
                                span: Some(span.clone()),
                                message: "unterminated quoted string: expected a closing '\"' \
                                          on the same line"
                                    .to_string(),
                            })
                        }
                    }
                }
                out.push(Token {
                    kind: TokenKind::Word { text, quoted: true },
                    span: span.clone(),
                    line,
                });
            }
            // `char::is_whitespace` also covers '\r' of CRLF files and the
            // ideographic space U+3000 that CJK input methods type.
            c if c.is_whitespace() => push_word(&mut word, out),
            c => word.push(c),
        }
    }
    push_word(&mut word, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, u32)> {
        let file = Rc::new(PathBuf::from("t.conf"));
        tokenize(text, &file)
            .expect("lexes")
            .into_iter()
            .map(|t| {
                let text = match t.kind {
                    TokenKind::Word { text, quoted: true } => format!("\"{text}\""),
                    TokenKind::Word { text, .. } => text,
                    TokenKind::Open => "{".into(),
                    TokenKind::Close => "}".into(),
                };
                (text, t.span.line)
            })
            .collect()
    }

    fn texts(text: &str) -> Vec<String> {
        words(text).into_iter().map(|(w, _)| w).collect()
    }

    #[test]
    fn comments_in_every_position() {
        assert_eq!(texts("! whole line\n# also"), Vec::<String>::new());
        assert_eq!(texts("10.0.0.3 #虚拟ip"), ["10.0.0.3"]);
        assert_eq!(texts("} #"), ["}"]);
        assert_eq!(
            texts("router_id lb02 #标识信息,一个名字而已;"),
            ["router_id", "lb02"]
        );
        assert_eq!(texts("priority 100 ## 节点优先级"), ["priority", "100"]);
        assert_eq!(texts("state MASTER!comment"), ["state", "MASTER"]);
        assert_eq!(texts("   \t  "), Vec::<String>::new());
    }

    #[test]
    fn braces_are_tokens_even_when_glued() {
        assert_eq!(texts("VI_1{"), ["VI_1", "{"]);
        assert_eq!(texts("a{b}c"), ["a", "{", "b", "}", "c"]);
        assert_eq!(texts("x }}"), ["x", "}", "}"]);
    }

    #[test]
    fn quoted_strings_are_one_token() {
        assert_eq!(
            texts(r#"script "/bin/check me # not a comment {""#),
            ["script", "\"/bin/check me # not a comment {\""]
        );
        assert_eq!(texts(r#"x """#), ["x", "\"\""]);
        let file = Rc::new(PathBuf::from("q.conf"));
        let err = tokenize("ok\nscript \"open", &file).unwrap_err();
        assert_eq!(err.to_string().split(": ").next(), Some("q.conf:2"));
    }

    #[test]
    fn lines_are_counted_and_crlf_and_wide_space_split() {
        assert_eq!(
            words("a\r\n\r\nb\u{3000}c"),
            [("a".into(), 1), ("b".into(), 3), ("c".into(), 3)]
        );
    }
}
