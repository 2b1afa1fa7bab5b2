//! Reading keepalived.conf into the typed model the daemon runs on.
//!
//! The pipeline, one file per step: `source` reads UTF-8 text, `lexer`
//! splits it into tokens with spans, `include` splices in included files,
//! `syntax` groups tokens into statements and blocks, and `parser` with
//! `instance`, `authentication` and `virtual_address` turns statements into
//! `model` values with keepalived's defaults.

mod authentication;
mod glob;
mod include;
mod instance;
mod lexer;
pub mod model;
mod parser;
mod source;
mod syntax;
mod values;
mod virtual_address;

#[cfg(test)]
mod tests;

pub use model::{
    Authentication, Config, ConfigError, InitialState, InstanceConfig, Span, VirtualAddress,
    Warning,
};
pub use parser::{load, parse_str};
