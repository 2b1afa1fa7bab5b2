//! Reading keepalived.conf: lexer, include expansion, statement tree, and
//! the typed model the daemon runs on.

mod lexer;
pub mod model;

pub use model::{
    Authentication, Config, ConfigError, InitialState, InstanceConfig, Span, VirtualAddress,
    Warning,
};
