//! Groups tokens into statements: a keyword and its values on one line,
//! optionally followed by `{ ... }` holding more statements.
//!
//! This layer knows no keywords; `build.rs` gives statements their meaning.
//! Keeping the two apart lets an unknown keyword's block be skipped whole
//! without knowing what is inside it.

use super::lexer::{Token, TokenKind};
use super::model::{ConfigError, Span};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub keyword: String,
    pub args: Vec<String>,
    /// Where the keyword is.
    pub span: Span,
    /// The statements between `{` and its `}`, if the statement has a block.
    pub block: Option<Vec<Statement>>,
}

/// Reads the whole token stream as a list of top-level statements.
pub(crate) fn statements(tokens: &[Token]) -> Result<Vec<Statement>, ConfigError> {
    let mut reader = Reader { tokens, next: 0 };
    reader.block(None)
}

struct Reader<'a> {
    tokens: &'a [Token],
    next: usize,
}

impl Reader<'_> {
    /// Statements up to the `}` matching the `{` at `opened_at`, or up to the
    /// end of input when `opened_at` is None (the top level).
    fn block(&mut self, opened_at: Option<&Span>) -> Result<Vec<Statement>, ConfigError> {
        let mut list = Vec::new();
        loop {
            let Some(token) = self.tokens.get(self.next) else {
                return match opened_at {
                    None => Ok(list),
                    Some(open) => Err(ConfigError {
                        span: Some(self.last_span().unwrap_or_else(|| open.clone())),
                        message: format!(
                            "unexpected end of file: expected '}}' to close the block \
                             opened at {open}"
                        ),
                    }),
                };
            };
            match &token.kind {
                TokenKind::Close => {
                    return match opened_at {
                        Some(_) => {
                            self.next += 1;
                            Ok(list)
                        }
                        None => Err(ConfigError {
                            span: Some(token.span.clone()),
                            message: "unexpected '}': no block is open here".to_string(),
                        }),
                    };
                }
                TokenKind::Open => {
                    return Err(ConfigError {
                        span: Some(token.span.clone()),
                        message: "unexpected '{': expected a keyword before it".to_string(),
                    });
                }
                TokenKind::Word { text, .. } => {
                    self.next += 1;
                    let statement = self.rest_of_statement(text.clone(), token)?;
                    list.push(statement);
                }
            }
        }
    }

    /// Values on the keyword's line, then the block if a `{` ends the line
    /// or, Allman style, starts the next one.
    fn rest_of_statement(
        &mut self,
        keyword: String,
        keyword_token: &Token,
    ) -> Result<Statement, ConfigError> {
        let mut args = Vec::new();
        while let Some(token) = self.tokens.get(self.next) {
            if !token.same_line(keyword_token) {
                break;
            }
            match &token.kind {
                TokenKind::Word { text, .. } => {
                    args.push(text.clone());
                    self.next += 1;
                }
                _ => break,
            }
        }
        let mut block = None;
        if let Some(token) = self.tokens.get(self.next) {
            let opens_here = token.kind == TokenKind::Open
                && (token.same_line(keyword_token) || self.starts_line(self.next));
            if opens_here {
                self.next += 1;
                let open = token.span.clone();
                block = Some(self.block(Some(&open))?);
            }
        }
        Ok(Statement {
            keyword,
            args,
            span: keyword_token.span.clone(),
            block,
        })
    }

    fn starts_line(&self, index: usize) -> bool {
        match index.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(previous) => self
                .tokens
                .get(index)
                .is_some_and(|token| !token.same_line(previous)),
            None => true,
        }
    }

    fn last_span(&self) -> Option<Span> {
        self.tokens.last().map(|t| t.span.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::tokenize;
    use std::path::PathBuf;
    use std::rc::Rc;

    fn read(text: &str) -> Result<Vec<Statement>, ConfigError> {
        let file = Rc::new(PathBuf::from("s.conf"));
        statements(&tokenize(text, &file)?)
    }

    /// A compact picture of the tree: `kw(args){...}`.
    fn shape(list: &[Statement]) -> String {
        list.iter()
            .map(|s| {
                let mut out = s.keyword.clone();
                if !s.args.is_empty() {
                    out += &format!("({})", s.args.join(","));
                }
                if let Some(block) = &s.block {
                    out += &format!("{{{}}}", shape(block));
                }
                out
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn statements_end_at_line_end_and_blocks_nest() {
        let tree = read("a 1 2\nb {\n c 3\n d {\n e\n }\n}\nf").unwrap();
        assert_eq!(shape(&tree), "a(1,2) b{c(3) d{e}} f");
    }

    #[test]
    fn close_brace_may_end_a_line_of_values_and_blocks_may_be_one_line() {
        let tree = read("vrrp_instance VI_1{ state MASTER }\nx { y 1 } z").unwrap();
        assert_eq!(shape(&tree), "vrrp_instance(VI_1){state(MASTER)} x{y(1)} z");
        let tree = read("v {\n 192.0.2.1 }").unwrap();
        assert_eq!(shape(&tree), "v{192.0.2.1}");
    }

    #[test]
    fn open_brace_on_the_next_line_belongs_to_the_statement() {
        let tree = read("vrrp_instance VI_1\n{\n state BACKUP\n}").unwrap();
        assert_eq!(shape(&tree), "vrrp_instance(VI_1){state(BACKUP)}");
    }

    #[test]
    fn unbalanced_braces_name_the_place() {
        let err = read("a {\n b 1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.conf:2: unexpected end of file: expected '}' to close the block opened at s.conf:1"
        );
        let err = read("a 1\n}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.conf:2: unexpected '}': no block is open here"
        );
        let err = read("a 1 { b } {").unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.conf:1: unexpected '{': expected a keyword before it"
        );
    }
}
