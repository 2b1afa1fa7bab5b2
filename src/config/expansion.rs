//! keepalived's config language above the keywords, applied to each line
//! before it is split into tokens: conditional lines (`conditional`),
//! definitions and their substitution (`definitions`), multi-line
//! definitions, and `~SEQ` lines (`sequence`). One physical line gives
//! any number of lines to read: none (a definition, a line for another
//! router), one, or many (a template, a sequence).
//!
//! The order is keepalived 2.2.7's, as its config dump shows: the
//! condition first (so `@lb1 $PRI=240` defines only on lb1), then a
//! definition, a sequence, or substitution; a substituted line is read
//! again, so a definition may hold a condition (`$ON_LB1=@lb1`).

use std::path::Path;

use super::conditional::kept_by_condition;
use super::definitions::{definition, Definitions};
use super::model::{ConfigError, Span};
use super::sequence::sequence;

/// Lines made by one line, through templates and sequences, deeper than
/// this are a loop.
const MAX_DEPTH: usize = 16;

/// One line to tokenize and where it came from (the physical line that
/// made it, which several lines may share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpandedLine {
    pub text: String,
    pub span: Span,
}

pub(crate) struct Expander {
    config_id: String,
    definitions: Definitions,
    /// A multi-line definition being read: its name and lines so far.
    open_definition: Option<(String, Vec<String>)>,
}

impl Expander {
    pub fn new(config_id: &str) -> Expander {
        let mut definitions = Definitions::default();
        definitions.define("_INSTANCE", config_id.to_string());
        Expander {
            config_id: config_id.to_string(),
            definitions,
            open_definition: None,
        }
    }

    /// `${_PWD}` is the directory of the file being read.
    pub fn enter_directory(&mut self, directory: &Path) {
        self.definitions
            .define("_PWD", directory.display().to_string());
    }

    /// The lines that `physical` gives, appended to `out`.
    pub fn feed(
        &mut self,
        physical: &str,
        span: &Span,
        out: &mut Vec<ExpandedLine>,
    ) -> Result<(), ConfigError> {
        if let Some((name, mut lines)) = self.open_definition.take() {
            // Lines of a multi-line definition are kept as written: their
            // conditions and uses are read when the definition is used.
            match physical.trim_end().strip_suffix('\\') {
                Some(line) => {
                    lines.push(line.to_string());
                    self.open_definition = Some((name, lines));
                }
                None => {
                    lines.push(physical.to_string());
                    self.definitions.define(&name, lines.join("\n"));
                }
            }
            return Ok(());
        }
        self.line(physical, span, 0, out)
            .map_err(|message| ConfigError {
                span: Some(span.clone()),
                message,
            })
    }

    /// A file ends any multi-line definition left open in it.
    pub fn end_of_file(&mut self) {
        if let Some((name, lines)) = self.open_definition.take() {
            self.definitions.define(&name, lines.join("\n"));
        }
    }

    fn line(
        &mut self,
        line: &str,
        span: &Span,
        depth: usize,
        out: &mut Vec<ExpandedLine>,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "definitions and ~SEQ lines expand within each other more than {MAX_DEPTH} \
                 deep (a loop?)"
            ));
        }
        let Some(line) = kept_by_condition(line, &self.config_id) else {
            return Ok(());
        };
        if let Some((name, value)) = definition(line) {
            match value.strip_suffix('\\') {
                Some(first) => {
                    let first = first.trim();
                    let lines = if first.is_empty() {
                        Vec::new()
                    } else {
                        vec![first.to_string()]
                    };
                    self.open_definition = Some((name.to_string(), lines));
                }
                None => self.definitions.define(name, value.to_string()),
            }
            return Ok(());
        }
        if let Some(found) = sequence(line) {
            let found = found?;
            let rest = found.rest.to_string();
            for value in found.values {
                self.definitions.define(&found.variable, value);
                self.line(&rest, span, depth + 1, out)?;
            }
            return Ok(());
        }
        if let Some(template) = self.definitions.template(line) {
            for template_line in template {
                self.line(&template_line, span, depth + 1, out)?;
            }
            return Ok(());
        }
        let substituted = self.definitions.substitute(line)?;
        if substituted == line {
            out.push(ExpandedLine {
                text: substituted,
                span: span.clone(),
            });
            return Ok(());
        }
        for part in substituted.split('\n') {
            self.line(part, span, depth + 1, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::rc::Rc;

    /// The lines `text` gives on router `id`, each as "LINE: text".
    fn expand(text: &str, id: &str) -> Vec<String> {
        let mut expander = Expander::new(id);
        let file = Rc::new(PathBuf::from("e.conf"));
        let mut out = Vec::new();
        for (index, physical) in text.lines().enumerate() {
            let span = Span {
                file: Rc::clone(&file),
                line: index as u32 + 1,
            };
            expander.feed(physical, &span, &mut out).unwrap();
        }
        expander.end_of_file();
        out.iter()
            .map(|l| format!("{}: {}", l.span.line, l.text.trim()))
            .filter(|l| !l.ends_with(": "))
            .collect()
    }

    #[test]
    fn conditions_select_lines_and_definitions() {
        let text = "@lb1 router_id one\n@^lb1 router_id other\n@lb1 $P=240\n@^lb1 $P=200\n\
                    priority $P\n$ON_LB1=@lb1\n$ON_LB1 nopreempt";
        assert_eq!(
            expand(text, "lb1"),
            ["1: router_id one", "5: priority 240", "7: nopreempt"]
        );
        assert_eq!(
            expand(text, "lb2"),
            ["2: router_id other", "5: priority 200"]
        );
        assert_eq!(
            expand("router_id ${_INSTANCE}", "lb2"),
            ["1: router_id lb2"]
        );
    }

    #[test]
    fn a_multi_line_definition_is_read_afresh_at_each_use() {
        // keepalived.conf(5)'s example, trimmed; keepalived 2.2.7 made
        // VI_1 with priority 131 and VI_2 with 132 from it.
        let text = "$INSTANCE= \\\nvrrp_instance VI_${NUM} { \\\n  @lb1 priority 13${NUM} \\\n  \
                    @^lb1 priority 99 \\\n}\n\n$NUM=1\n$INSTANCE\n$NUM=2\n${INSTANCE}";
        assert_eq!(
            expand(text, "lb1"),
            [
                "8: vrrp_instance VI_1 {",
                "8: priority 131",
                "8: }",
                "10: vrrp_instance VI_2 {",
                "10: priority 132",
                "10: }"
            ]
        );
    }

    #[test]
    fn sequences_repeat_the_rest_of_the_line() {
        assert_eq!(
            expand("~SEQ(A, 1, 2) ~SEQx(B, 9, 10) 2001:db8::${A}:$B", "x"),
            [
                "1: 2001:db8::1:9",
                "1: 2001:db8::1:a",
                "1: 2001:db8::2:9",
                "1: 2001:db8::2:a"
            ]
        );
        let mut expander = Expander::new("x");
        let span = Span {
            file: Rc::new(PathBuf::from("e.conf")),
            line: 3,
        };
        let err = expander
            .feed("~SEQ(A, 1, 0, 2) x", &span, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.to_string(), "e.conf:3: ~SEQ: STEP 0 never reaches END");
    }

    #[test]
    fn odd_lines_do_not_panic() {
        let mut expander = Expander::new("x");
        let span = Span {
            file: Rc::new(PathBuf::from("e.conf")),
            line: 1,
        };
        for line in [
            "@",
            "@^",
            "@^ ",
            "$",
            "$=",
            "$=x",
            "${",
            "${}",
            "$ {A}",
            "~SEQ",
            "~SEQ(",
            "~SEQ()",
            "~SEQ(,)",
            "~SEQ(A,)",
            "~SEQx(A, 0x, 1)",
            "~SEQ(A,-)",
            "$ü=ß",
            "${ü}",
            "@ü x",
            "$A=\\",
            "\\",
            "$A= \\ ",
        ] {
            let _ = expander.feed(line, &span, &mut Vec::new());
        }
        expander.end_of_file();
    }

    #[test]
    fn a_definition_that_uses_itself_is_an_error_not_a_hang() {
        let mut expander = Expander::new("x");
        let span = Span {
            file: Rc::new(PathBuf::from("e.conf")),
            line: 1,
        };
        let mut out = Vec::new();
        expander.feed("$A=$A x", &span, &mut out).unwrap();
        assert!(expander.feed("$A", &span, &mut out).is_err());
        expander.feed("$T= \\", &span, &mut out).unwrap();
        expander.feed("$T", &span, &mut out).unwrap();
        assert!(expander.feed("$T", &span, &mut out).is_err());
    }
}
