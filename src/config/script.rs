//! `vrrp_script NAME { ... }` into a `ScriptConfig`, with keepalived's
//! defaults.

use super::command::script_command;
use super::model::{Command, ConfigError, RunAs, ScriptConfig, Warning};
use super::syntax::Statement;
use super::values::{
    block_name, block_of, error_at, expected_found, flag, integer, run_as, seconds_us,
    signed_in_range, warn_keepalived_error_at, warn_unsupported,
};

/// keepalived's weight range for scripts: a weight of 254 could lift a
/// priority-1 instance to 255 and make it claim to own the addresses.
pub(crate) const MAX_SCRIPT_WEIGHT: i32 = 253;
/// keepalived stores rise and fall as a C int.
const MAX_RISE_FALL: u32 = i32::MAX as u32;
const DEFAULT_INTERVAL_US: u64 = 1_000_000;

/// What the block said; a keyword given twice keeps its last value.
#[derive(Default)]
struct Written {
    command: Option<Command>,
    interval_us: Option<u64>,
    timeout_us: Option<u64>,
    weight: Option<(i32, bool)>,
    rise: Option<u32>,
    fall: Option<u32>,
    init_fail: bool,
    user: Option<RunAs>,
}

/// A `vrrp_script` block as read.
pub(crate) enum ScriptBlock {
    Check(ScriptConfig),
    /// Named, with no `script` line: keepalived 2.2.7 removes it ("No
    /// script set for vrrp_script NAME - removing") and ignores the
    /// track_script lines naming it, so the instances run untracked.
    Dropped(String),
}

pub(crate) fn vrrp_script(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<ScriptBlock, ConfigError> {
    let name = block_name(statement, "a script name", warnings)?;
    let mut w = Written::default();
    for line in block_of(statement)? {
        read_line(&name, line, &mut w, warnings)?;
    }
    let Some(command) = w.command else {
        warn_keepalived_error_at(
            warnings,
            &statement.span,
            format!(
                "vrrp_script {name}: no 'script' line: this check is dropped, as keepalived \
                 2.2.7 drops it"
            ),
        );
        return Ok(ScriptBlock::Dropped(name));
    };
    let interval_us = w.interval_us.unwrap_or(DEFAULT_INTERVAL_US);
    Ok(ScriptBlock::Check(ScriptConfig {
        name,
        span: statement.span.clone(),
        command,
        interval_us,
        // Default as documented by keepalived: a run may last one interval.
        timeout_us: w.timeout_us.unwrap_or(interval_us),
        weight: w.weight.map_or(0, |(weight, _)| weight),
        reverse: w.weight.is_some_and(|(_, reverse)| reverse),
        rise: w.rise.unwrap_or(1),
        fall: w.fall.unwrap_or(1),
        init_fail: w.init_fail,
        user: w.user,
    }))
}

fn read_line(
    name: &str,
    line: &Statement,
    w: &mut Written,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    match line.keyword.as_str() {
        "script" => w.command = Some(script_command(line, warnings)?),
        "interval" => w.interval_us = Some(seconds_us(line, warnings)?),
        "timeout" => w.timeout_us = Some(seconds_us(line, warnings)?),
        "weight" => w.weight = Some(script_weight(name, line, warnings)?),
        "rise" => w.rise = Some(integer(line, 1, MAX_RISE_FALL, warnings)?),
        "fall" => w.fall = Some(integer(line, 1, MAX_RISE_FALL, warnings)?),
        "init_fail" => {
            flag(line, warnings)?;
            w.init_fail = true;
        }
        "user" => w.user = Some(run_as(line, warnings)?),
        _ => warn_unsupported(warnings, line),
    }
    Ok(())
}

/// `weight N [reverse]`: the weight and whether it is reversed.
fn script_weight(
    name: &str,
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(i32, bool), ConfigError> {
    let expected = format!("an integer -{MAX_SCRIPT_WEIGHT}..{MAX_SCRIPT_WEIGHT}");
    if line.block.is_some() {
        return Err(error_at(
            &line.span,
            "weight: does not take a '{' block".to_string(),
        ));
    }
    let Some(text) = line.args.first() else {
        return Err(error_at(
            &line.span,
            format!("weight: missing argument, expected {expected}"),
        ));
    };
    let weight = signed_in_range(text, -MAX_SCRIPT_WEIGHT, MAX_SCRIPT_WEIGHT)
        .ok_or_else(|| expected_found(line, &expected, text))?;
    let reverse = weight_options(
        &format!("vrrp_script {name}"),
        line,
        &line.args[1..],
        warnings,
    );
    Ok((weight, reverse.unwrap_or(false)))
}

/// The words after `weight N`: Some(true) for `reverse`, Some(false) for
/// `noreverse` (or `no_reverse`), None when neither is given, so that a
/// `track_script` line can inherit its script's choice (keepalived 2.2.7
/// does: `chk weight 20` on a `weight 10 reverse` script subtracts 20).
/// keepalived warns about and ignores any other word; so does keepvip.
pub(crate) fn weight_options(
    owner: &str,
    line: &Statement,
    options: &[String],
    warnings: &mut Vec<Warning>,
) -> Option<bool> {
    let mut reverse = None;
    for option in options {
        match option.as_str() {
            "reverse" => reverse = Some(true),
            "noreverse" | "no_reverse" => reverse = Some(false),
            other => warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("{owner}: unknown weight option '{other}', ignored"),
            ),
        }
    }
    reverse
}
