//! Reading keepalived.conf: lexer, include expansion, statement tree, and
//! the typed model the daemon runs on.

mod glob;
mod include;
mod lexer;
pub mod model;
mod source;
mod syntax;

pub use model::{
    Authentication, Config, ConfigError, InitialState, InstanceConfig, Span, VirtualAddress,
    Warning,
};
