//! Reading keepalived.conf into the typed model the daemon runs on.
//!
//! The pipeline, one file per step: `source` reads UTF-8 text, `expansion`
//! applies the config language to each line (`conditional` @ID lines,
//! `definitions` $NAME, `sequence` ~SEQ), `lexer` splits it into tokens
//! with spans, `include` splices in included files,
//! `syntax` groups tokens into statements and blocks, and `parser` with
//! `instance`, `authentication`, `virtual_address`, `script` (vrrp_script),
//! `tracking` (track_script, track_interface) and `command` (argv of
//! scripts and notify commands) turns statements into `model` values with
//! keepalived's defaults.

mod authentication;
mod command;
mod conditional;
mod definitions;
mod digest;
mod expansion;
mod glob;
mod include;
mod instance;
mod instance_options;
mod keywords;
mod lexer;
pub mod model;
mod netlink_names;
mod notify_fifo;
mod parser;
mod routes;
mod scheduling;
mod script;
mod sequence;
mod shell_words;
mod source;
mod startup;
mod sync_group;
mod syntax;
mod track_file;
mod track_process;
mod tracking;
mod values;
mod virtual_address;
mod vmac_names;

#[cfg(test)]
mod tests;

pub use conditional::default_config_id;
pub use instance_options::{GarpExtraIf, InstanceOptions};
pub use model::{
    AddressVmac, AnnounceSpacing, Authentication, Command, Config, ConfigError, InitialState,
    InstanceConfig, NotifyCommands, RunAs, Scheduling, ScriptConfig, Span, StaticConfig,
    SyncGroupConfig, TrackedInterface, TrackedScript, VirtualAddress, Vmac, VrrpVersion, Warning,
    WarningKind, KEEPALIVED_CONFIG_ERROR_EXIT,
};
pub use notify_fifo::{FifoConfig, NotifyFifos};
pub use parser::{load, load_as, load_keeping, parse_str, parse_str_as, parse_str_keeping};
pub use routes::{Route, RouteKind, Rule};
pub use shell_words::shell_words;
pub use startup::StartupConfig;
pub use track_file::{InitFile, TrackFileConfig, TrackedFile};
pub use track_process::{ParamMatch, TrackProcessConfig, TrackedProcess};
pub use vmac_names::KeptVmac;
