//! `vrrp_track_process NAME { process, param_match, weight [reverse],
//! quorum, quorum_max, fork_delay, terminate_delay, delay, full_command }`
//! and the `track_process { NAME [weight N [reverse]] }` block of an
//! instance.

use super::model::{Config, ConfigError, Span, Warning};
use super::script::weight_options;
use super::syntax::Statement;
use super::tracking::instance_entries;
use super::values::{
    block_name, block_of, error_at, expected_found, flag, integer, seconds_us, signed_in_range,
    warn_at, warn_keepalived_error_at, warn_unsupported,
};

/// keepalived's weight range for processes.
const MAX_PROCESS_WEIGHT: i32 = 254;

/// How the configured parameters are compared with a process's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamMatch {
    /// No `param_match`: with parameters, exactly those; without, the
    /// process name alone is compared.
    Default,
    /// `param_match` alone (no parameters): the command has none.
    Exact,
    /// The first parameters match exactly; more may follow.
    Partial,
    /// As written, but the last one may be longer in the process.
    Initial,
}

/// One `vrrp_track_process NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackProcessConfig {
    pub name: String,
    pub span: Span,
    /// `process NAME [PARAM ...]` (required).
    pub process: String,
    pub params: Vec<String>,
    pub param_match: ParamMatch,
    /// `full_command`: compare the command line's first word instead of
    /// the process name (/proc/PID/comm).
    pub full_command: bool,
    /// Default 0 (keepalived 2.2.7's dump says so; its man page says 1):
    /// too few processes put the instance in FAULT.
    pub weight: i32,
    pub reverse: bool,
    /// At least this many matching processes for the check to be up
    /// (default 1).
    pub quorum: u32,
    /// At most this many (default: no limit).
    pub quorum_max: u32,
    /// How long quorum must hold after a start before it counts.
    pub fork_delay_us: u64,
    /// How long quorum must be lost after an exit before it counts.
    pub terminate_delay_us: u64,
}

/// One line of an instance's `track_process { NAME [weight N] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedProcess {
    /// Index into `Config::track_processes`.
    pub process: usize,
    pub weight: i32,
    pub reverse: bool,
    pub span: Span,
}

pub(crate) fn track_process_block(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<TrackProcessConfig, ConfigError> {
    let name = block_name(statement, "a track_process name", warnings)?;
    let owner = format!("vrrp_track_process {name}");
    let mut process: Option<Vec<String>> = None;
    let mut param_match = None;
    let mut weight = (0, false);
    let mut quorum = 1;
    let mut quorum_max = u32::MAX;
    let mut fork_delay_us = 0;
    let mut terminate_delay_us = 0;
    let mut full_command = false;
    for line in block_of(statement)? {
        match line.keyword.as_str() {
            "process" => {
                if line.args.is_empty() {
                    return Err(error_at(
                        &line.span,
                        format!("{owner}: process: missing argument, expected a process name"),
                    ));
                }
                process = Some(line.args.clone());
            }
            "param_match" => {
                param_match = Some(match line.args.first().map(String::as_str) {
                    None => ParamMatch::Exact,
                    Some("partial") => ParamMatch::Partial,
                    Some("initial") => ParamMatch::Initial,
                    Some(other) => {
                        return Err(expected_found(line, "'partial' or 'initial'", other))
                    }
                });
            }
            "weight" => {
                let expected = format!("an integer -{MAX_PROCESS_WEIGHT}..{MAX_PROCESS_WEIGHT}");
                let text = line.args.first().map(String::as_str).unwrap_or("");
                let value = signed_in_range(text, -MAX_PROCESS_WEIGHT, MAX_PROCESS_WEIGHT)
                    .ok_or_else(|| expected_found(line, &expected, text))?;
                let reverse = weight_options(&owner, line, &line.args[1..], warnings);
                weight = (value, reverse.unwrap_or(false));
            }
            "quorum" => quorum = integer(line, 1, u32::MAX, warnings)?,
            "quorum_max" => quorum_max = integer(line, 0, u32::MAX, warnings)?,
            "fork_delay" => fork_delay_us = seconds_us(line, warnings)?,
            "terminate_delay" => terminate_delay_us = seconds_us(line, warnings)?,
            "delay" => {
                fork_delay_us = seconds_us(line, warnings)?;
                terminate_delay_us = fork_delay_us;
            }
            "full_command" => {
                flag(line, warnings)?;
                full_command = true;
            }
            _ => warn_unsupported(warnings, line),
        }
    }
    let Some(mut process) = process else {
        return Err(error_at(
            &statement.span,
            format!("{owner}: missing 'process' (required)"),
        ));
    };
    if quorum_max < quorum {
        return Err(error_at(
            &statement.span,
            format!("{owner}: quorum_max {quorum_max} is below quorum {quorum}"),
        ));
    }
    let params = process.split_off(1);
    let param_match = match (param_match, params.is_empty()) {
        (None, _) => ParamMatch::Default,
        // `param_match partial` with no parameters: any parameters.
        (Some(ParamMatch::Exact), false) => ParamMatch::Default,
        (Some(kind), _) => kind,
    };
    Ok(TrackProcessConfig {
        name,
        span: statement.span.clone(),
        process: process.remove(0),
        params,
        param_match,
        full_command,
        weight: weight.0,
        reverse: weight.1,
        quorum,
        quorum_max,
        fork_delay_us,
        terminate_delay_us,
    })
}

/// Looks up every instance's `track_process` lines now that every block is
/// known; an unknown name is an error, as for `track_script`.
pub(crate) fn resolve_tracked_processes(
    config: &mut Config,
    top: &[Statement],
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    for (index, entry) in instance_entries(top, "track_process")? {
        let instance = &mut config.instances[index];
        let name = &entry.keyword;
        let Some(process) = config.track_processes.iter().position(|p| p.name == *name) else {
            return Err(error_at(
                &entry.span,
                format!("track_process: no vrrp_track_process named \"{name}\""),
            ));
        };
        if instance
            .track_processes
            .iter()
            .any(|t| t.process == process)
        {
            warn_keepalived_error_at(
                warnings,
                &entry.span,
                format!(
                    "({}) duplicate track_process {name} - ignoring",
                    instance.name
                ),
            );
            continue;
        }
        let mut weight = config.track_processes[process].weight;
        let mut reverse = config.track_processes[process].reverse;
        let owner = format!("track_process {name}");
        match entry.args.first().map(String::as_str) {
            None => {}
            Some("weight") => {
                let text = entry.args.get(1).map(String::as_str).unwrap_or("");
                weight = signed_in_range(text, -MAX_PROCESS_WEIGHT, MAX_PROCESS_WEIGHT)
                    .ok_or_else(|| {
                        error_at(
                            &entry.span,
                            format!(
                                "{owner}: weight: expected an integer \
                                 -{MAX_PROCESS_WEIGHT}..{MAX_PROCESS_WEIGHT}, found \"{text}\""
                            ),
                        )
                    })?;
                let options = entry.args.get(2..).unwrap_or(&[]);
                if let Some(r) = weight_options(&owner, entry, options, warnings) {
                    reverse = r;
                }
            }
            Some(other) => warn_keepalived_error_at(
                warnings,
                &entry.span,
                format!("{owner}: unknown option '{other}', ignored"),
            ),
        }
        if instance.priority == super::instance::OWNER_PRIORITY && weight != 0 {
            warn_at(
                warnings,
                &entry.span,
                format!(
                    "({}) ignoring tracked process {name} with weights due to address_owner",
                    instance.name
                ),
            );
            continue;
        }
        instance.track_processes.push(TrackedProcess {
            process,
            weight,
            reverse,
            span: entry.span.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse_str;
    use super::ParamMatch;

    fn conf(blocks: &str, lines: &str) -> String {
        format!(
            "{blocks}vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n \
             virtual_ipaddress {{ 192.0.2.100 }}\n track_process {{\n{lines}\n }}\n}}\n"
        )
    }

    #[test]
    fn blocks_and_lines_with_keepalived_defaults() {
        let text = conf(
            "vrrp_track_process nginx {\n process nginx\n}\n\
             vrrp_track_process haproxy {\n process /usr/sbin/haproxy -f \"/etc/a b.cfg\"\n \
             param_match initial\n weight 10 reverse\n quorum 2\n quorum_max 4\n delay 0.5\n \
             full_command\n}\n",
            "nginx\nhaproxy weight -20",
        );
        let (config, _) = parse_str(&text, Path::new("k.conf")).unwrap();
        let nginx = &config.track_processes[0];
        assert_eq!(
            (
                nginx.weight,
                nginx.quorum,
                nginx.quorum_max,
                nginx.param_match
            ),
            (0, 1, u32::MAX, ParamMatch::Default)
        );
        let haproxy = &config.track_processes[1];
        assert_eq!(haproxy.process, "/usr/sbin/haproxy");
        assert_eq!(haproxy.params, ["-f", "/etc/a b.cfg"]);
        assert_eq!(haproxy.param_match, ParamMatch::Initial);
        assert_eq!((haproxy.quorum, haproxy.quorum_max), (2, 4));
        assert_eq!(
            (haproxy.fork_delay_us, haproxy.terminate_delay_us),
            (500_000, 500_000)
        );
        assert!(haproxy.full_command);
        let tracked: Vec<_> = config.instances[0]
            .track_processes
            .iter()
            .map(|t| (t.process, t.weight, t.reverse))
            .collect();
        assert_eq!(tracked, [(0, 0, false), (1, -20, true)]);
    }

    #[test]
    fn unknown_names_and_missing_process_are_errors() {
        let err = parse_str(&conf("", "nosuch"), Path::new("k.conf")).unwrap_err();
        assert!(err
            .message
            .contains("no vrrp_track_process named \"nosuch\""));
        let text = conf("vrrp_track_process p {\n quorum 2\n}\n", "p");
        let err = parse_str(&text, Path::new("k.conf")).unwrap_err();
        assert!(err.message.contains("missing 'process'"));
    }
}
